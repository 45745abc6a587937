package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"vigie/events/store"
	"vigie/graph"
	dash "vigie/graph/dashboard"
	"vigie/graph/gatewaytest"
	"vigie/projections/projectiontest"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

// Browser tests of the dashboard: `vigie serve` as a process on a real Redis, driven
// in headless Chromium (Debian's chromium) through chromedp, one browser context per
// user. Screenshots of each step go to $VIGIE_ARTIFACTS (a temporary directory when
// unset). Conditions are polled in the page; no timing is asserted.

const (
	domWait     = 30 * time.Second // how long the page may take to show a change (the machine may be busy)
	browserWait = 5 * time.Minute  // the whole browser session
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("VIGIE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: the dashboard is tested in a real browser (apt-get install -y --no-install-recommends chromium; .ci/run installs it)")
	return ""
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VIGIE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "dashboard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dashEnv is a running vigie and a browser.
type dashEnv struct {
	t         *testing.T
	data      string
	env       []string
	proc      *process
	url       string
	browser   context.Context
	artifacts string
	hc        *http.Client
	root      *testing.T // the test that owns the process
	step      int
}

func startDashboard(t *testing.T) *dashEnv {
	t.Helper()
	chrome := chromiumPath(t)
	rdb := projectiontest.Redis(t)
	d := &dashEnv{t: t, root: t, data: t.TempDir(), artifacts: artifactsDir(t), hc: &http.Client{Timeout: 15 * time.Second}}
	d.env = []string{"REDIS_URL=" + redisDBURL(t, rdb.Options().DB), "EVENTSTORE_URL=", "VIGIE_DATA=", "VIGIE_HTTP_ADDR=",
		"VIGIE_INCIDENTS_ADDR=", "VIGIE_RESOURCES_ADDR=", "VIGIE_ALERTS_ADDR=", "VIGIE_OIDC_ISSUER=",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="}
	d.proc = startVigieEnv(t, d.env, "serve", "--data", d.data, "--http", "127.0.0.1:0")
	d.url = d.proc.addr
	waitOK(t, d.hc, d.url+"/readyz")
	d.browser = startBrowser(t, chrome)
	return d
}

// startBrowser starts headless Chromium for the test.
func startBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1600, 1000))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTimeout := context.WithTimeout(alloc, browserWait)
	t.Cleanup(cancelTimeout)
	browser, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// page opens a browser context of its own (cookies, storage) signed in with token.
func (d *dashEnv) page(name, token string) context.Context {
	d.t.Helper()
	ctx, cancel := chromedp.NewContext(d.browser, chromedp.WithNewBrowserContext())
	d.t.Cleanup(cancel)
	// The tab is made by the first action and lives as long as that action's context:
	// this one, not a bounded one.
	if err := chromedp.Do(ctx); err != nil {
		d.t.Fatalf("%s: open a tab: %v", name, err)
	}
	d.do(ctx, name+": open the dashboard", chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-input"]`)))
	d.shot(ctx, name+"-signin")
	d.do(ctx, name+": sign in",
		chromedp.SetValue(chromedp.CSS(`[data-testid="token-input"]`), token),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		// An administrator lands on the security journal (no board to read).
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="view-board"]:not([hidden]), [data-testid="view-security"]:not([hidden])`)))
	d.waitJS(ctx, name+": live connection", `document.querySelector('[data-testid="live-status"]').classList.contains('up')`)
	return ctx
}

func (d *dashEnv) do(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	bounded, cancel := context.WithTimeout(ctx, domWait)
	defer cancel()
	if err := chromedp.Do(bounded, steps...); err != nil {
		d.shot(ctx, "failed")
		d.t.Fatalf("%s: %v", what, err)
	}
}

// js evaluates expr in the page.
func js[T any](d *dashEnv, ctx context.Context, expr string) T {
	d.t.Helper()
	bounded, cancel := context.WithTimeout(ctx, domWait)
	defer cancel()
	v, err := chromedp.Run(bounded, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls expr in the page until it is truthy.
func (d *dashEnv) waitJS(ctx context.Context, what, expr string) {
	d.t.Helper()
	deadline := time.Now().Add(domWait)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		// Right after a navigation the poll may start in the old document's context.
		if strings.Contains(err.Error(), "Cannot find context with specified id") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		d.shot(ctx, "failed")
		d.t.Fatalf("%s: not within %v (%s): %v", what, domWait, expr, err)
	}
}

func (d *dashEnv) shot(ctx context.Context, name string) {
	d.step++
	bounded, cancel := context.WithTimeout(ctx, domWait)
	defer cancel()
	buf, err := chromedp.Run(bounded, chromedp.FullScreenshot(100))
	if err != nil {
		d.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(d.artifacts, fmt.Sprintf("%s-%02d-%s.png", strings.ReplaceAll(d.t.Name(), "/", "_"), d.step, name))
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		d.t.Logf("screenshot %s: %v", name, err)
	}
}

// reset closes what a failed step may have left open (the incident dialog is modal)
// and goes back to the board, so one failure does not hide the next steps' results.
func (d *dashEnv) reset(ctx context.Context) {
	d.t.Helper()
	js[bool](d, ctx, `(document.querySelector('dialog[open]')?.close(), document.querySelector('[data-testid="tab-board"]').click(), true)`)
}

// stop ends vigie (its websockets drop); start starts it again on the same address,
// the same data and Redis. The process belongs to the whole test, not to a subtest.
func (d *dashEnv) stop() { d.proc.stop(d.t, syscall.SIGTERM) }

func (d *dashEnv) start() {
	d.proc = startVigieEnv(d.root, d.env, "serve", "--data", d.data, "--http", strings.TrimPrefix(d.url, "http://"))
	if d.proc.addr != d.url {
		d.t.Fatalf("restarted on %s, want %s", d.proc.addr, d.url)
	}
}

// gql is a GraphQL client that fails the current (sub)test.
func (d *dashEnv) gql() *gqlClient {
	return &gqlClient{t: d.t, http: d.hc, url: d.url + "/graphql"}
}

func (d *dashEnv) report(token, title string) string {
	d.t.Helper()
	var r struct{ ID string }
	d.gql().mutate(token, `mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }`,
		map[string]any{"c": uuid.NewString(), "in": map[string]any{"domain": nimes, "kind": "FLASH_FLOOD", "title": title, "severity": "SEVERE"}}, "reportIncident", &r)
	return r.ID
}

// warmUp changes an incident until the page has heard a board notice: from then on
// its subscription is surely in place (gqlgen does not acknowledge subscriptions).
func (d *dashEnv) warmUp(ctx context.Context, token, incident string) {
	d.t.Helper()
	deadline := time.Now().Add(domWait)
	for {
		before := js[string](d, ctx, `document.body.dataset.boardNotices || '0'`)
		d.gql().mutate(token, `mutation($id: ID!, $c: ID) { addLogEntry(incidentId: $id, text: "Veille active", commandId: $c) { id } }`, map[string]any{"id": incident, "c": uuid.NewString()}, "addLogEntry", nil)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`(document.body.dataset.boardNotices || '0') !== %q`, before), chromedp.WithPollingTimeout(500*time.Millisecond))); err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the page heard no board notice within %v", domWait)
		}
	}
}

// approveInDialog approves the inbox item (a JS expression) through the confirmation
// dialog: the audience counted, the box ticked, the confirmation clicked.
func (d *dashEnv) approveInDialog(ctx context.Context, item string) {
	d.t.Helper()
	js[bool](d, ctx, item+`.querySelector('[data-testid="approve-alert"]').click() || true`)
	d.waitJS(ctx, "the confirmation dialog with the audience counted", `document.querySelector('[data-testid="approve-dialog"]').open && document.querySelector('[data-testid="approve-audience"]')?.dataset.loaded === 'true'`)
	d.shot(ctx, "approve-dialog")
	d.do(ctx, "tick and confirm", chromedp.Click(chromedp.CSS(`[data-testid="approve-check"]`)),
		chromedp.WaitEnabled(chromedp.CSS(`[data-testid="approve-confirm"]`)), chromedp.Click(chromedp.CSS(`[data-testid="approve-confirm"]`)))
	d.waitJS(ctx, "the dialog closed after the approval", `!document.querySelector('[data-testid="approve-dialog"]').open`)
}

func TestDashboardInBrowser(t *testing.T) {
	d := startDashboard(t)
	rac := vigieToken(t, d.data, "rac-nimes", "rac", nimes)
	mayor := vigieToken(t, d.data, "maire-nimes", "mayor", nimes)

	// Before anything is open: an incident, so the timeline has a "before".
	first := d.report(mayor, "Veille crue — cadereau d'Uzès")
	racPage := d.page("rac", rac)
	d.waitJS(racPage, "the first incident on the board", fmt.Sprintf(`!!document.querySelector('[data-testid="incident-row"][data-incident-id=%q]')`, first))
	d.shot(racPage, "board")
	// A marker that a reload would lose.
	js[bool](d, racPage, `window.__noReload = true`)

	var second string
	t.Run("incident reported through the API appears without reload", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		d.warmUp(racPage, mayor, first)
		second = d.report(mayor, "Crue rapide — quartier Richelieu")
		d.waitJS(racPage, "the reported incident on the open board", fmt.Sprintf(`!!document.querySelector('[data-testid="incident-row"][data-incident-id=%q]')`, second))
		d.waitJS(racPage, "the map marker", fmt.Sprintf(`!!document.querySelector('[data-testid="map-incident"][data-incident-id=%q]')`, second))
		if !js[bool](d, racPage, `window.__noReload === true`) {
			t.Fatal("the page was reloaded")
		}
		d.shot(racPage, "incident-appeared")
	})

	t.Run("incident detail: main courante entry, engage and release a team", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		d.do(racPage, "open the incident", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-incident-id=%q] [data-testid="open-incident"]`, second))),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="log-text"]`)))
		d.do(racPage, "add an entry", chromedp.SendKeys(chromedp.CSS(`[data-testid="log-text"]`), "Cadereau à 1,80 m, en hausse"),
			chromedp.Click(chromedp.CSS(`[data-testid="log-submit"]`)))
		d.waitJS(racPage, "the entry in the main courante", `[...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent.includes('Cadereau à 1,80 m'))`)
		// A team registered meanwhile through the API is offered, engaged, then released.
		var team struct{ ID string }
		d.gql().mutate(rac, `mutation($in: RegisterResourceInput!, $c: ID) { registerResource(input: $in, commandId: $c) { id } }`,
			map[string]any{"c": uuid.NewString(), "in": map[string]any{"domain": nimes, "kind": "TEAM", "name": "Police municipale — équipe 2"}}, "registerResource", &team)
		d.waitJS(racPage, "the team offered for engagement", fmt.Sprintf(`!!document.querySelector('[data-testid="engage-resource"] option[value=%q]')`, team.ID))
		js[bool](d, racPage, fmt.Sprintf(`(document.querySelector('[data-testid="engage-resource"]').value = %q, true)`, team.ID))
		d.do(racPage, "engage the team", chromedp.Click(chromedp.CSS(`[data-testid="engage-submit"]`)))
		engaged := fmt.Sprintf(`document.querySelector('[data-testid="engaged-resource"][data-resource-id=%q]')`, team.ID)
		d.waitJS(racPage, "the team engaged on the incident", "!!"+engaged)
		d.waitJS(racPage, "the team engaged on the board", fmt.Sprintf(`document.querySelector('[data-testid="resource"][data-resource-id=%q]')?.dataset.status === 'ENGAGED'`, team.ID))
		d.shot(racPage, "incident-detail")
		js[bool](d, racPage, engaged+`.querySelector('[data-testid="release-resource"]').click() || true`)
		d.waitJS(racPage, "the team released", "!"+engaged)
		d.do(racPage, "close the detail", chromedp.Click(chromedp.CSS(`[data-testid="incident-dialog-close"]`)))
	})

	t.Run("prefecture sees every commune, the severe first", func(t *testing.T) {
		d.t = t
		prefecture := vigieToken(t, d.data, "cod-gard", "prefecture", "dep:30")
		p := d.page("prefecture", prefecture)
		d.waitJS(p, "Nîmes in the communes list", `!!document.querySelector('[data-testid="commune-row"][data-code="30189"]')`)
		d.waitJS(p, "the incidents of the département", fmt.Sprintf(`!!document.querySelector('[data-testid="incident-row"][data-incident-id=%q]')`, second))
		d.waitJS(p, "the page knows whether the gateway serves the demonstration's messages", `!!document.body.dataset.demo`)
		if js[bool](d, p, `document.body.dataset.demo !== 'absent' || !document.querySelector('[data-testid="tab-demo"]').hidden`) {
			t.Error("the demonstration's messages are offered by a gateway that has none (vigie serve)")
		}
		if js[bool](d, p, `!!document.querySelector('[data-testid="report-form"]:not([hidden])')`) {
			t.Error("the prefecture is offered to report an incident, which its role may not do")
		}
		d.shot(p, "prefecture")
	})

	t.Run("alert drafted by the coordinator, approved by the mayor, shown sent", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		mayorPage := d.page("mayor", mayor)
		d.do(mayorPage, "the mayor opens the inbox", chromedp.Click(chromedp.CSS(`[data-testid="tab-approvals"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="approvals-list"]`)))
		headline := "Crue rapide : restez chez vous " + uuid.NewString()[:8]
		d.do(racPage, "the coordinator drafts an alert", chromedp.Click(chromedp.CSS(`[data-testid="tab-alerts"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-form"]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="alert-event"]`), "Crue rapide"),
			chromedp.SetValue(chromedp.CSS(`[data-testid="alert-headline"]`), headline),
			chromedp.SetValue(chromedp.CSS(`[data-testid="alert-description"]`), "Montée rapide des cadereaux de Nîmes."),
			chromedp.SetValue(chromedp.CSS(`[data-testid="alert-instruction"]`), "Montez à l'étage, ne prenez pas votre véhicule."),
			chromedp.SetValue(chromedp.CSS(`[data-testid="alert-area"]`), "Nîmes, quartiers Richelieu et Gambetta"))
		d.shot(racPage, "alert-form")
		d.do(racPage, "submit the alert", chromedp.Click(chromedp.CSS(`[data-testid="alert-submit"]`)))
		card := fmt.Sprintf(`[...document.querySelectorAll('#alerts-list [data-testid="alert-card"]')].find(c => c.textContent.includes(%q))`, headline)
		d.waitJS(racPage, "the submitted alert in the coordinator's list", card+`?.dataset.status === 'PENDING_APPROVAL'`)
		if js[bool](d, racPage, `!!`+card+`.querySelector('[data-testid="alert-cap"]')`) {
			t.Error("a « Message CAP » link is offered for an alert waiting for the mayor: nothing is public yet")
		}
		d.shot(racPage, "alert-submitted")

		item := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="approval-item"]')].find(c => c.textContent.includes(%q))`, headline)
		d.waitJS(mayorPage, "the alert in the mayor's inbox", "!!"+item)
		d.shot(mayorPage, "inbox")
		d.approveInDialog(mayorPage, item)
		d.waitJS(mayorPage, "the inbox emptied of the approved alert", "!"+item)
		d.shot(mayorPage, "approved")

		d.do(racPage, "back to the board", chromedp.Click(chromedp.CSS(`[data-testid="tab-board"]`)))
		d.waitJS(racPage, "the alert shown sent on the coordinator's board", fmt.Sprintf(`[...document.querySelectorAll('#board-alerts [data-testid="alert-card"]')].some(c => c.textContent.includes(%q) && c.dataset.status === 'SENT')`, headline))
		d.waitJS(racPage, "the « Message CAP » link once published", `!!`+card+`.querySelector('[data-testid="alert-cap"]')`)
		if !js[bool](d, racPage, `window.__noReload === true`) {
			t.Fatal("the coordinator's page was reloaded")
		}
		d.shot(racPage, "alert-sent")
	})

	t.Run("time slider shows the board before the incident", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		d.do(racPage, "open the after-action view", chromedp.Click(chromedp.CSS(`[data-testid="tab-after"]`)))
		reported := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="timeline-entry"]')].findIndex(e => e.dataset.type === 'IncidentReported' && e.dataset.streamId === 'incident-%s')`, second)
		d.waitJS(racPage, "the second incident's report in the timeline", reported+` > 0`)
		idx := js[int](d, racPage, reported)
		// At the entry just before the report: the first incident, not the second.
		js[bool](d, racPage, fmt.Sprintf(`(() => { const s = document.querySelector('[data-testid="replay-slider"]'); s.value = %d; s.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, idx-1))
		before := fmt.Sprintf(`document.querySelector('[data-testid="view-after"]').dataset.replayAt === document.querySelectorAll('[data-testid="timeline-entry"]')[%d].querySelector('time').getAttribute('datetime')`, idx-1)
		d.waitJS(racPage, "the replay at the entry before the report", before)
		has := func(id string) string {
			return fmt.Sprintf(`!!document.querySelector('[data-testid="replay-incident"][data-incident-id=%q]')`, id)
		}
		if !js[bool](d, racPage, has(first)) || js[bool](d, racPage, has(second)) {
			t.Errorf("the board before the report shows the first incident %v and the second %v; want the first only", js[bool](d, racPage, has(first)), js[bool](d, racPage, has(second)))
		}
		d.shot(racPage, "replay-before")
		// And with the keyboard, to the end: the second incident is there.
		d.do(racPage, "slider to the end", chromedp.Focus(chromedp.CSS(`[data-testid="replay-slider"]`)), chromedp.KeyEvent(kb.End))
		d.waitJS(racPage, "the replay at the end shows the second incident", has(second))
		d.shot(racPage, "replay-end")
		d.do(racPage, "back to the board", chromedp.Click(chromedp.CSS(`[data-testid="tab-board"]`)))
	})

	t.Run("after-action report links", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		for _, f := range []struct{ testid, path, ctype string }{{"report-html", "/report/" + nimes + ".html", "text/html"}, {"report-json", "/report/" + nimes + ".json", "application/json"}} {
			link := fmt.Sprintf(`document.querySelector('[data-testid=%q]')`, f.testid)
			if href := js[string](d, racPage, link+`.getAttribute('href')`); href != f.path {
				t.Errorf("%s links to %q, want %q", f.testid, href, f.path)
			}
			// What the link's click does: fetch with the session's token.
			got := js[string](d, racPage, `fetch(`+link+`.getAttribute('href'), {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('vigie.token')}}).then(r => r.status + ' ' + r.headers.get('Content-Type'))`)
			if !strings.HasPrefix(got, "200 "+f.ctype) {
				t.Errorf("GET %s with the token: %s, want 200 %s", f.path, got, f.ctype)
			}
		}
	})

	t.Run("connection-lost banner while the gateway is down", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		banner := `!document.querySelector('[data-testid="connection-banner"]').hidden`
		if js[bool](d, racPage, banner) {
			t.Fatal("the banner shows while connected")
		}
		d.stop()
		d.waitJS(racPage, "the connection-lost banner", banner)
		d.shot(racPage, "connection-lost")
		d.start()
		d.waitJS(racPage, "the banner gone after reconnection", "!"+banner+` && document.querySelector('[data-testid="live-status"]').classList.contains('up')`)
		// Live again: a new incident shows.
		d.warmUp(racPage, mayor, first)
		third := d.report(mayor, "Route de Sauve coupée")
		d.waitJS(racPage, "an incident reported after the reconnection", fmt.Sprintf(`!!document.querySelector('[data-testid="incident-row"][data-incident-id=%q]')`, third))
		if !js[bool](d, racPage, `window.__noReload === true`) {
			t.Fatal("the page was reloaded")
		}
		d.shot(racPage, "reconnected")
	})

	t.Run("keyboard reaches the main controls", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		js[bool](d, racPage, `(document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true)`)
		reached := map[string]bool{}
		outlined := map[string]bool{}
		for range 40 {
			d.do(racPage, "tab", chromedp.KeyEvent("\t"))
			var f struct {
				TestID  string `json:"testid"`
				Outline string `json:"outline"`
			}
			raw := js[string](d, racPage, `JSON.stringify({testid: document.activeElement.dataset.testid || document.activeElement.tagName, outline: getComputedStyle(document.activeElement).outlineStyle})`)
			if err := json.Unmarshal([]byte(raw), &f); err != nil {
				t.Fatal(err)
			}
			reached[f.TestID] = true
			outlined[f.TestID] = f.Outline != "none"
		}
		want := []string{"domain-select", "tab-board", "tab-alerts", "tab-after", "signout", "report-title", "report-submit", "open-incident"}
		var missing, unmarked []string
		for _, w := range want {
			if !reached[w] {
				missing = append(missing, w)
			} else if !outlined[w] {
				unmarked = append(unmarked, w)
			}
		}
		if len(missing) > 0 || len(unmarked) > 0 {
			var got []string
			for k := range reached {
				got = append(got, k)
			}
			sort.Strings(got)
			t.Errorf("tab did not reach %v, or showed no focus on %v; reached %v", missing, unmarked, got)
		}
		d.shot(racPage, "keyboard")
	})

	t.Run("render budget", func(t *testing.T) {
		d.t = t
		d.reset(racPage)
		// 500 incidents drawn (table, communes, map), layout included; logged, not asserted.
		var runs []float64
		for range 5 {
			runs = append(runs, js[float64](d, racPage, `import(document.querySelector('script[type=module]').src).then(m => m.benchRender(500))`))
		}
		sort.Float64s(runs)
		t.Logf("board of 500 incidents rendered in %.1f ms (median of 5; min %.1f, max %.1f)", runs[2], runs[0], runs[4])
		// First load: a new tab with the token in its session, to the board drawn.
		// Navigate waits for the load event, so the poll below runs in the new document
		// (polling across a reload can land in the old one's destroyed context).
		d.do(racPage, "reload", chromedp.Navigate(d.url+"/"))
		d.waitJS(racPage, "the board after a reload", `performance.getEntriesByName('vigie-ready').length > 0`)
		ready := js[float64](d, racPage, `performance.getEntriesByName('vigie-ready')[0].startTime`)
		load := js[float64](d, racPage, `performance.getEntriesByType('navigation')[0].loadEventEnd`)
		t.Logf("first load on loopback: load event at %.0f ms, board ready at %.0f ms", load, ready)
	})
}

// sinkInbox is the demonstration's inbox over the test's own providers: what the SMS
// gateway and the SMTP server received.
type sinkInbox struct {
	sms  *channeltest.HTTPSink
	mail *channeltest.SMTPSink
}

func (s sinkInbox) Received() []graph.DemoMessage {
	var out []graph.DemoMessage
	for _, p := range s.sms.Messages() {
		out = append(out, graph.DemoMessage{At: p.Received, Channel: p.Channel, To: p.To, Body: p.Text, Exercise: p.Exercise})
	}
	for _, m := range s.mail.Messages() {
		out = append(out, graph.DemoMessage{At: m.Received, Channel: "EMAIL", To: strings.Join(m.To, ", "), Subject: m.Subject, Body: m.Body, Exercise: m.Exercise})
	}
	return out
}

// TestDashboardAlertsInBrowser: what the dashboard says of alerts (issue 13), on the
// whole stack in process with local providers (an SMS gateway that refuses some
// numbers, an SMTP server) and the demonstration's inbox over them: the mayor's
// confirmation dialog (whom it reaches, the area, the text; cancelling approves
// nothing; the approval records what was shown), a partially failed alert in red
// with its reason, no CAP link before publication, the prefecture's confirmation of
// an FR-Alert it broadcast itself, the cancellation's count, and the received
// messages page.
func TestDashboardAlertsInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	sms, mail := channeltest.StartHTTP(t), channeltest.StartSMTP(t)
	senders := channel.Config{SMSURL: sms.URL(), SMTPAddr: mail.Addr(), Retry: channel.Retry{Attempts: 2, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond}}.Senders()
	env := gatewaytest.Start(t, gatewaytest.WithDispatcher(senders), gatewaytest.WithConfig(func(c *graph.Config) {
		c.Static = dash.Handler()
		c.DemoInbox = sinkInbox{sms: sms, mail: mail}
	}))
	d := &dashEnv{t: t, root: t, url: env.URL, artifacts: artifactsDir(t), hc: &http.Client{Timeout: 15 * time.Second}}
	d.browser = startBrowser(t, chrome)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	prefecture := env.Token("cod-gard", "prefecture", "dep:30")

	// Residents of the area on SMS, and one on e-mail too.
	const residents = 6
	for i := range residents {
		in := map[string]any{"domain": nimes, "phone": fmt.Sprintf("+3361100%04d", i), "location": map[string]float64{"lat": 43.835, "lon": 4.36}, "channels": []string{"SMS"}}
		if i == 0 {
			in["email"], in["channels"] = "habitante@example.org", []string{"SMS", "EMAIL"}
		}
		d.gql().do(rac, `mutation($in: RegisterResidentInput!){ registerResident(input: $in){ id } }`, map[string]any{"in": in}, "registerResident", nil)
	}
	draft := func(headline string, channels ...string) string {
		var a struct{ ID string }
		d.gql().mutate(rac, `mutation($in: DraftAlertInput!, $c: ID){ draftAlert(input: $in, commandId: $c){ id } }`, map[string]any{"c": uuid.NewString(), "in": map[string]any{
			"domain": nimes, "event": "Crue rapide", "headline": headline, "description": "Le Vistre déborde dans les quartiers sud.",
			"instruction": "Montez à l'étage, ne prenez pas votre véhicule.", "severity": "SEVERE", "urgency": "IMMEDIATE", "certainty": "OBSERVED",
			"category": "MET", "areaDesc": "Quartiers sud de Nîmes", "channels": channels,
			"polygon": []map[string]float64{{"lat": 43.80, "lon": 4.30}, {"lat": 43.80, "lon": 4.40}, {"lat": 43.86, "lon": 4.40}, {"lat": 43.86, "lon": 4.30}},
		}}, "draftAlert", &a)
		return a.ID
	}
	submit := func(id string) {
		d.gql().mutate(rac, `mutation($id: ID!, $c: ID){ submitAlert(id: $id, commandId: $c){ id } }`, map[string]any{"id": id, "c": uuid.NewString()}, "submitAlert", nil)
	}
	status := func(id string) string {
		var list []struct{ ID, Status string }
		d.gql().query(mayor, `query($d: String!){ alerts(domain: $d){ id status } }`, map[string]any{"d": nimes}, "alerts", &list)
		for _, a := range list {
			if a.ID == id {
				return a.Status
			}
		}
		return ""
	}

	headline := "Crue rapide du Vistre : restez chez vous " + uuid.NewString()[:6]
	flood := draft(headline, "SMS", "EMAIL", "CAP_FEED")
	submit(flood)
	draftOnly := draft("Brouillon : coupure de la route de Sauve", "CAP_FEED")

	racPage := d.page("rac", rac)
	d.do(racPage, "the coordinator's alerts", chromedp.Click(chromedp.CSS(`[data-testid="tab-alerts"]`)))
	cardOf := func(id string) string {
		return fmt.Sprintf(`document.querySelector('#alerts-list [data-testid="alert-card"][data-alert-id=%q]')`, id)
	}
	d.waitJS(racPage, "the draft and the pending alert listed", `!!(`+cardOf(draftOnly)+` && `+cardOf(flood)+`)`)
	if js[bool](d, racPage, `!!(`+cardOf(draftOnly)+`.querySelector('[data-testid="alert-cap"]') || `+cardOf(flood)+`.querySelector('[data-testid="alert-cap"]'))`) {
		t.Error("a « Message CAP » link is offered for a draft or a pending alert: nothing of them is public")
	}

	mayorPage := d.page("mayor", mayor)
	d.do(mayorPage, "the mayor's inbox", chromedp.Click(chromedp.CSS(`[data-testid="tab-approvals"]`)))
	item := fmt.Sprintf(`document.querySelector('[data-testid="approval-item"][data-alert-id=%q]')`, flood)
	d.waitJS(mayorPage, "the alert in the mayor's inbox", "!!"+item)

	t.Run("the approval dialog shows whom, where and what; cancelling approves nothing", func(t *testing.T) {
		d.t = t
		js[bool](d, mayorPage, item+`.querySelector('[data-testid="approve-alert"]').click() || true`)
		dialog := `document.querySelector('[data-testid="approve-dialog"]')`
		row := func(ch string) string {
			return fmt.Sprintf(`%s.querySelector('[data-testid="audience-row"][data-channel=%q]')`, dialog, ch)
		}
		d.waitJS(mayorPage, "the audience counted in the dialog", dialog+`.open && `+row("SMS")+`?.dataset.recipients === '6'`)
		if got := js[string](d, mayorPage, row("SMS")+`.textContent`); !strings.Contains(got, "6 personnes") {
			t.Errorf("SMS audience reads %q, want « 6 personnes »", got)
		}
		if got := js[string](d, mayorPage, row("EMAIL")+`.dataset.recipients`); got != "1" {
			t.Errorf("e-mail audience %q, want 1", got)
		}
		if got := js[string](d, mayorPage, row("CAP_FEED")+`.textContent`); !strings.Contains(got, "inconnu") || strings.Contains(got, "0") {
			t.Errorf("the CAP feed's audience reads %q: it cannot be counted, and must not say 0", got)
		}
		texts := js[string](d, mayorPage, dialog+`.querySelector('[data-testid="approve-text-short"]').textContent + '|' + `+dialog+`.querySelector('[data-testid="approve-text-email"]').textContent`)
		if !strings.Contains(texts, headline+". Montez à l'étage, ne prenez pas votre véhicule.") || !strings.Contains(texts, "Le Vistre déborde") {
			t.Errorf("the texts as they go out: %q", texts)
		}
		if !js[bool](d, mayorPage, dialog+`.querySelector('[data-testid="approve-map"] .alert-area') !== null`) {
			t.Error("the alert's area is not drawn on the dialog's map")
		}
		if !js[bool](d, mayorPage, `document.querySelector('[data-testid="approve-confirm"]').disabled`) {
			t.Error("the confirmation is possible before the explicit tick")
		}
		d.shot(mayorPage, "approve-dialog")
		head := env.Head()
		d.do(mayorPage, "cancel", chromedp.Click(chromedp.CSS(`[data-testid="approve-cancel"]`)))
		d.waitJS(mayorPage, "the dialog closed", `!`+dialog+`.open`)
		time.Sleep(300 * time.Millisecond)
		if env.Head() != head || status(flood) != "PENDING_APPROVAL" {
			t.Fatalf("cancelling the dialog changed something: log %d → %d, status %s", head, env.Head(), status(flood))
		}
		if !js[bool](d, mayorPage, "!!"+item) {
			t.Error("the alert left the inbox after a cancelled approval")
		}
	})

	t.Run("the confirmed approval records what was shown; a partial failure shows in red with its reason", func(t *testing.T) {
		d.t = t
		sms.FailNext(2, http.StatusBadRequest) // two numbers refused for good
		d.approveInDialog(mayorPage, item)
		d.waitJS(mayorPage, "the inbox emptied of the approved alert", "!"+item)
		if got := approvalAudience(t, env, flood); got["SMS"] != residents || got["EMAIL"] != 1 {
			t.Errorf("the approval recorded %v, want the audience shown (SMS %d, EMAIL 1)", got, residents)
		}
		d.do(racPage, "the board", chromedp.Click(chromedp.CSS(`[data-testid="tab-board"]`)))
		board := fmt.Sprintf(`document.querySelector('#board-alerts [data-testid="alert-card"][data-alert-id=%q]')`, flood)
		d.waitJS(racPage, "the alert partially sent on the board", board+`?.dataset.status === 'PARTIALLY_SENT'`)
		d.shot(racPage, "partial-failure")
		var shown struct {
			Status, Problem, StatusColor, ProblemBg, SMS string
		}
		raw := js[string](d, racPage, `(() => { const c = `+board+`; const st = c.querySelector('[data-testid="alert-status"]'); const p = c.querySelector('[data-testid="alert-problem"]');
			return JSON.stringify({status: st.textContent, problem: p ? p.textContent : '', statusColor: getComputedStyle(st).color, problemBg: p ? getComputedStyle(p).backgroundColor : '',
				sms: c.querySelector('[data-testid="delivery"][data-channel="SMS"]').textContent}); })()`)
		if err := json.Unmarshal([]byte(raw), &shown); err != nil {
			t.Fatal(err)
		}
		if shown.Status != "Partiellement diffusée" || shown.StatusColor != "rgb(255, 92, 138)" {
			t.Errorf("status shown %q in %s, want « Partiellement diffusée » in red", shown.Status, shown.StatusColor)
		}
		if !strings.Contains(shown.Problem, "SMS") || !strings.Contains(shown.Problem, "2 messages sur 6 n'ont pas pu être remis") || shown.ProblemBg != "rgb(92, 0, 22)" {
			t.Errorf("the failure reads %q on %s, want the SMS reason in red under the status", shown.Problem, shown.ProblemBg)
		}
		if !strings.Contains(shown.SMS, "Partiellement remis") || !strings.Contains(shown.SMS, "4 reçus") {
			t.Errorf("the SMS line reads %q", shown.SMS)
		}
		d.do(racPage, "the alerts", chromedp.Click(chromedp.CSS(`[data-testid="tab-alerts"]`)))
		d.waitJS(racPage, "the « Message CAP » link once published", `!!`+cardOf(flood)+`?.querySelector('[data-testid="alert-cap"]') && !`+cardOf(draftOnly)+`.querySelector('[data-testid="alert-cap"]')`)
		if !js[bool](d, racPage, `!!`+cardOf(flood)+`.querySelector('[data-testid="alert-published"]')`) {
			t.Error("the published version is not shown as such")
		}
	})

	t.Run("the received messages page", func(t *testing.T) {
		d.t = t
		d.waitJS(racPage, "the demonstration tab offered", `!document.querySelector('[data-testid="tab-demo"]').hidden`)
		d.do(racPage, "open it", chromedp.Click(chromedp.CSS(`[data-testid="tab-demo"]`)))
		if got := js[string](d, racPage, `document.querySelector('#demo-title').textContent`); got != "Messages reçus (démonstration)" {
			t.Errorf("page title %q", got)
		}
		rows := `[...document.querySelectorAll('[data-testid="demo-message"]')]`
		d.waitJS(racPage, "the messages the providers received", fmt.Sprintf(`%s.filter(r => r.textContent.includes(%q)).length === %d`, rows, headline, residents-2+1))
		d.shot(racPage, "demo-messages")
		all := js[string](d, racPage, rows+`.map(r => r.querySelector('[data-testid="demo-to"]').textContent).join(' ')`)
		if strings.Contains(all, "+3361100") || strings.Contains(all, "habitante@") || !strings.Contains(all, "+33•") {
			t.Errorf("recipients shown as %q: they must be partially masked", all)
		}
		d.do(racPage, "back to the alerts", chromedp.Click(chromedp.CSS(`[data-testid="tab-alerts"]`)))
	})

	t.Run("the admin reads the security journal", func(t *testing.T) {
		d.t = t
		// Alès' coordinator tries Nîmes' incidents; a script tries a forged token.
		if code := d.gql().code(env.Token("rac-ales", "rac", "dep:30/com:30007"), `query($d:String!){ incidents(domain:$d){ id } }`, map[string]any{"d": nimes}); code != "FORBIDDEN" {
			t.Fatalf("Alès reads Nîmes: %q", code)
		}
		d.gql().code("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.eA", `{ __typename }`, nil)
		if !js[bool](d, racPage, `document.querySelector('[data-testid="tab-security"]').hidden`) {
			t.Error("the coordinator is offered the security journal")
		}
		p := d.page("admin", env.Token("adm-nimes", "admin", nimes))
		d.waitJS(p, "the journal's tab, for the admin", `!document.querySelector('[data-testid="tab-security"]').hidden`)
		d.do(p, "open it", chromedp.Click(chromedp.CSS(`[data-testid="tab-security"]`)))
		row := `[...document.querySelectorAll('[data-testid="security-entry"][data-kind="REFUSED"]')].find(r => r.textContent.includes('rac-ales'))`
		d.waitJS(p, "Alès' refused read in Nîmes' journal", `!!`+row)
		got := js[string](d, p, row+`.textContent`)
		if !strings.Contains(got, "Action refusée") || !strings.Contains(got, "Nîmes") || !strings.Contains(got, "incidents") || strings.Contains(got, "dep:30") {
			t.Errorf("the refusal reads %q: want « Action refusée », the commune's name, the operation", got)
		}
		if js[bool](d, p, `!![...document.querySelectorAll('[data-testid="security-entry"]')].find(r => r.dataset.kind === 'AUTH_FAILED')`) {
			t.Error("Nîmes' admin is shown authentication failures no one can attribute to Nîmes")
		}
		if js[bool](d, p, `!![...document.querySelectorAll('[data-testid="security-entry"]')].find(r => r.textContent.includes('adm-nimes'))`) {
			t.Errorf("the admin's own page asked for what the role may not read: %s", js[string](d, p, `document.querySelector('[data-testid="security-entries"]').textContent`))
		}
		d.shot(p, "security-journal")
	})

	t.Run("the prefecture confirms the FR-Alert it broadcast itself", func(t *testing.T) {
		d.t = t
		fr := draft("Alerte FR-Alert : évacuez les berges "+uuid.NewString()[:6], "FR_ALERT", "CAP_FEED")
		submit(fr)
		d.gql().mutate(mayor, `mutation($id: ID!, $c: ID){ approveAlert(id: $id, commandId: $c){ id } }`, map[string]any{"id": fr, "c": uuid.NewString()}, "approveAlert", nil)
		d.gql().mutate(prefecture, `mutation($id: ID!, $c: ID){ validateFrAlert(id: $id, commandId: $c){ id } }`, map[string]any{"id": fr, "c": uuid.NewString()}, "validateFrAlert", nil)
		p := d.page("prefecture", prefecture)
		d.do(p, "the prefecture's inbox", chromedp.Click(chromedp.CSS(`[data-testid="tab-approvals"]`)))
		pitem := fmt.Sprintf(`document.querySelector('[data-testid="approval-item"][data-alert-id=%q]')`, fr)
		d.waitJS(p, "the FR-Alert to broadcast, with its button", `!!`+pitem+`?.querySelector('[data-testid="confirm-fralert"]')`)
		if got := js[string](d, p, pitem+`.querySelector('[data-testid="delivery"][data-channel="FR_ALERT"]').textContent`); !strings.Contains(got, "inconnu") || !strings.Contains(got, "préfecture") {
			t.Errorf("the FR-Alert line reads %q: its count is unknown and the prefecture is to broadcast it", got)
		}
		d.shot(p, "fralert-to-confirm")
		js[bool](d, p, pitem+`.querySelector('[data-testid="confirm-fralert"]').click() || true`)
		d.waitJS(p, "the confirmed FR-Alert gone from the inbox", `!`+pitem)
		deadline := time.Now().Add(domWait)
		for status(fr) != "SENT" && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if s := status(fr); s != "SENT" {
			t.Errorf("after the confirmation: %s, want SENT", s)
		}
	})

	t.Run("the cancellation says how many were told", func(t *testing.T) {
		d.t = t
		d.gql().mutate(mayor, `mutation($id: ID!, $c: ID){ cancelAlert(id: $id, reason: "Décrue amorcée", commandId: $c){ id } }`, map[string]any{"id": flood, "c": uuid.NewString()}, "cancelAlert", nil)
		// Those who received the alert hear of its cancellation: four by SMS (two
		// numbers had refused it), one by e-mail.
		d.waitJS(racPage, "the cancellation's count under the alert", `!!`+cardOf(flood)+`?.querySelector('[data-testid="cancel-summary"]')?.textContent.startsWith('Annulation : 4 personnes prévenues par SMS, 1 par courriel')`)
		d.shot(racPage, "cancelled")
	})
}

// approvalAudience is the audience the last approval of the alert recorded in the log.
func approvalAudience(t *testing.T, env *gatewaytest.Env, id string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := env.Store.ReadStream(ctx, "alert-"+id, store.Start, store.Forwards, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]int
	for _, r := range recs {
		if r.Type == "AlertApproved" {
			var ev struct{ Audience map[string]int }
			if err := json.Unmarshal(r.Data, &ev); err != nil {
				t.Fatal(err)
			}
			out = ev.Audience
		}
	}
	return out
}
