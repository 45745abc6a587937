package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// What the prefecture and the cell see, at every size a cell uses (issue 17, points 3
// and 6): the sending commune on the prefecture's alert cards, reinforcement requests
// and their status on the incident and on the prefecture's board with the actions of
// the roles allowed, and every main view at five sizes with nothing running out of
// the screen; on a phone, a field agent reports an incident where they stand.

const sommieres = "dep:30/com:30321"

// screen is a size a crisis cell uses.
type screen struct {
	name          string
	width, height int64
	phone         bool
}

var screens = []screen{
	{"salle-1920x1080", 1920, 1080, false}, // the operations room's wall
	{"portable-1366x768", 1366, 768, false},
	{"portable-1280x800", 1280, 800, false},
	{"tablette-1024x768", 1024, 768, false},
	{"telephone-390x844", 390, 844, true}, // a field agent's phone
}

// resize gives the page the screen's size (a phone: mobile, touch).
func (d *dashEnv) resize(ctx context.Context, s screen) {
	d.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if s.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	d.do(ctx, "resize to "+s.name, chromedp.EmulateViewport(s.width, s.height, opts...))
	d.waitJS(ctx, "the page laid out at "+s.name, fmt.Sprintf(`matchMedia('(min-width: %dpx) and (max-width: %dpx)').matches`, s.width, s.width))
}

// layoutJS measures, in the page, what runs out of the screen: every element shown
// whose right edge passes the viewport's (beyond what an ancestor deliberately cuts,
// overflow hidden or clip: an ellipsis), every control that passes the box it sits in
// (a form, a panel, a dialog), the document's scroll width, and the header: one line
// (neither its content box nor any element of it as tall as one line and a half, a
// line being its territory select's height).
const layoutJS = `(() => {
  const W = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
    ' « ' + (el.textContent || '').trim().slice(0, 30) + ' »';
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  // innerWidth: a phone's browser zooms out of a page wider than the screen.
  const out = { width: W, innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, overflow: [], controls: [], header: [] };
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let right = r.right;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'hidden' || o === 'clip') right = Math.min(right, a.getBoundingClientRect().right);
    }
    if (right > W + 1) out.overflow.push(name(el) + ' ' + Math.round(r.left) + '→' + Math.round(r.right));
    if (el.matches('select, input:not([type=hidden]), textarea, button')) {
      const box = el.parentElement.closest('form, .panel, dialog, .rf, .alert-card, header');
      if (box && r.right > box.getBoundingClientRect().right + 1) out.controls.push(name(el) + ' passes ' + name(box));
    }
  }
  const top = document.querySelector('header.top');
  const cs = getComputedStyle(top);
  const content = top.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  const line = document.querySelector('#domain').getBoundingClientRect().height;
  if (content > line * 1.4) out.header.push('header ' + Math.round(content) + ' px high, one line is ' + Math.round(line));
  for (const el of top.querySelectorAll('h1, label, select, button, p, span, nav')) {
    if (!shown(el) || el.closest('.top.open .top-menu')) continue;
    const hgt = el.getBoundingClientRect().height;
    if (hgt > line * 1.4) out.header.push(name(el) + ' ' + Math.round(hgt) + ' px high: wrapped');
  }
  return JSON.stringify(out);
})()`

type layout struct {
	Width, InnerWidth, ScrollWidth int
	Overflow, Controls             []string
	Header                         []string
}

// checkLayout fails the test with what runs out of the screen, after a screenshot.
func (d *dashEnv) checkLayout(ctx context.Context, s screen, view string, header bool) {
	d.t.Helper()
	d.shot(ctx, s.name+"-"+view)
	var l layout
	if err := json.Unmarshal([]byte(js[string](d, ctx, layoutJS)), &l); err != nil {
		d.t.Fatal(err)
	}
	if l.InnerWidth > int(s.width) {
		d.t.Errorf("%s at %s: the browser zoomed out to a page %d px wide", view, s.name, l.InnerWidth)
	}
	if l.ScrollWidth > l.Width {
		d.t.Errorf("%s at %s: the page scrolls sideways (%d px wide in %d)", view, s.name, l.ScrollWidth, l.Width)
	}
	if len(l.Overflow) > 0 {
		d.t.Errorf("%s at %s: out of the screen (%d px): %s", view, s.name, l.Width, strings.Join(first(l.Overflow, 8), " | "))
	}
	if len(l.Controls) > 0 {
		d.t.Errorf("%s at %s: controls out of their box: %s", view, s.name, strings.Join(first(l.Controls, 8), " | "))
	}
	if header && len(l.Header) > 0 {
		d.t.Errorf("%s at %s: the header is not one line: %s", view, s.name, strings.Join(l.Header, " | "))
	}
}

func first(l []string, n int) []string { return l[:min(n, len(l))] }

// reportIn reports an incident in domain; loc, when not nil, is where.
func (d *dashEnv) reportIn(token, domain, kind, severity, title string, loc map[string]float64) string {
	d.t.Helper()
	in := map[string]any{"domain": domain, "kind": kind, "title": title, "severity": severity}
	if loc != nil {
		in["location"] = loc
	}
	var r struct{ ID string }
	d.gql().mutate(token, `mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }`,
		map[string]any{"c": uuid.NewString(), "in": in}, "reportIncident", &r)
	return r.ID
}

func (d *dashEnv) register(token, domain, kind, name string, capacity int) string {
	d.t.Helper()
	in := map[string]any{"domain": domain, "kind": kind, "name": name}
	if capacity > 0 {
		in["capacity"] = capacity
	}
	var r struct{ ID string }
	d.gql().mutate(token, `mutation($in: RegisterResourceInput!, $c: ID) { registerResource(input: $in, commandId: $c) { id } }`,
		map[string]any{"c": uuid.NewString(), "in": in}, "registerResource", &r)
	return r.ID
}

// openDetail opens an incident's dialog from the board.
func (d *dashEnv) openDetail(ctx context.Context, id string) {
	d.t.Helper()
	d.reset(ctx)
	d.waitJS(ctx, "the incident on the board", fmt.Sprintf(`!!document.querySelector('[data-incident-id=%q] [data-testid="open-incident"]')`, id))
	js[bool](d, ctx, fmt.Sprintf(`document.querySelector('[data-incident-id=%q] [data-testid="open-incident"]').click() || true`, id))
	d.waitJS(ctx, "the incident's dialog", `document.querySelector('[data-testid="incident-dialog"]').open && !!document.querySelector('#incident-actions')`)
}

func TestDashboardScreens(t *testing.T) {
	d := startDashboard(t)
	mayor := vigieToken(t, d.data, "maire-nimes", "mayor", nimes)
	rac := vigieToken(t, d.data, "rac-nimes", "rac", nimes)
	racS := vigieToken(t, d.data, "rac-sommieres", "rac", sommieres)
	mayorS := vigieToken(t, d.data, "maire-sommieres", "mayor", sommieres)
	operatorS := vigieToken(t, d.data, "operateur-sommieres", "operator", sommieres)
	prefecture := vigieToken(t, d.data, "cod-gard", "prefecture", "dep:30")

	// A night's board: Nîmes' flash flood with a team on it and a gymnasium filling up,
	// Sommières under the Vidourle asking for pumps, an alert waiting for the mayor.
	flood := d.reportIn(rac, nimes, "FLASH_FLOOD", "SEVERE", "Crue rapide — quartier Richelieu, cadereau d'Uzès en hausse", map[string]float64{"lat": 43.842, "lon": 4.362})
	d.reportIn(rac, nimes, "HAZMAT_TRANSPORT", "MODERATE", "Citerne renversée — route de Sauve", map[string]float64{"lat": 43.85, "lon": 4.33})
	vidourle := d.reportIn(racS, sommieres, "FLOOD", "EXTREME", "Débordement du Vidourle — centre ancien", map[string]float64{"lat": 43.785, "lon": 4.089})
	team := d.register(rac, nimes, "TEAM", "Police municipale — équipe 2", 0)
	d.register(rac, nimes, "VEHICLE", "Fourgon des services techniques", 0)
	d.gql().mutate(rac, `mutation($r: ID!, $i: ID!, $c: ID) { engageResource(resourceId: $r, incidentId: $i, commandId: $c) { id } }`, map[string]any{"r": team, "i": flood, "c": uuid.NewString()}, "engageResource", nil)
	gym := d.register(rac, nimes, "SHELTER", "Gymnase Jean Bouin", 120)
	d.gql().mutate(rac, `mutation($r: ID!, $n: Int!, $c: ID) { setShelterOccupancy(resourceId: $r, occupancy: $n, commandId: $c) { id } }`, map[string]any{"r": gym, "n": 87, "c": uuid.NewString()}, "setShelterOccupancy", nil)
	d.gql().mutate(racS, `mutation($in: RequestReinforcementInput!, $c: ID) { requestReinforcement(input: $in, commandId: $c) { id } }`, map[string]any{"c": uuid.NewString(),
		"in": map[string]any{"domain": sommieres, "incidentId": vidourle, "kind": "EQUIPMENT", "quantity": 4, "reason": "Motopompes pour les caves du centre ancien"}}, "requestReinforcement", nil)
	var alert struct{ ID string }
	d.gql().mutate(rac, `mutation($in: DraftAlertInput!, $c: ID){ draftAlert(input: $in, commandId: $c){ id } }`, map[string]any{"c": uuid.NewString(), "in": map[string]any{
		"domain": nimes, "event": "Crue rapide", "headline": "Crue rapide des cadereaux : restez chez vous, montez à l'étage",
		"description": "Les cadereaux d'Uzès et de Camplanier débordent dans les quartiers Richelieu et Gambetta.",
		"instruction": "Montez à l'étage, ne prenez pas votre véhicule, n'allez pas chercher vos enfants à l'école.", "severity": "SEVERE", "urgency": "IMMEDIATE",
		"certainty": "OBSERVED", "category": "MET", "areaDesc": "Quartiers Richelieu et Gambetta", "channels": []string{"CAP_FEED"},
		"polygon": []map[string]float64{{"lat": 43.83, "lon": 4.34}, {"lat": 43.83, "lon": 4.38}, {"lat": 43.86, "lon": 4.38}, {"lat": 43.86, "lon": 4.34}},
	}}, "draftAlert", &alert)
	d.gql().mutate(rac, `mutation($id: ID!, $c: ID){ submitAlert(id: $id, commandId: $c){ id } }`, map[string]any{"id": alert.ID, "c": uuid.NewString()}, "submitAlert", nil)

	mayorPage := d.page("maire", mayor)
	prefPage := d.page("prefecture", prefecture)
	cardOn := func(id string) string {
		return fmt.Sprintf(`document.querySelector('#board-alerts [data-testid="alert-card"][data-alert-id=%q]')`, id)
	}

	t.Run("the prefecture's alert card names the commune that sent it", func(t *testing.T) {
		d.t = t
		d.waitJS(prefPage, "Nîmes' alert on the département's board", "!!"+cardOn(alert.ID))
		if got := js[string](d, prefPage, cardOn(alert.ID)+`.querySelector('[data-testid="alert-commune"]')?.textContent || ''`); got != "Commune : Nîmes" {
			t.Errorf("the prefecture's card of Nîmes' alert reads %q, want « Commune : Nîmes »", got)
		}
		d.waitJS(mayorPage, "the alert on Nîmes' own board", "!!"+cardOn(alert.ID))
		if js[bool](d, mayorPage, `!!`+cardOn(alert.ID)+`.querySelector('[data-testid="alert-commune"]')`) {
			t.Error("the mayor's own board names the commune on every card: it says nothing there")
		}
	})

	t.Run("a reinforcement request on the incident and on the prefecture's board, each role its actions", func(t *testing.T) {
		d.t = t
		road := d.reportIn(racS, sommieres, "FLOOD", "SEVERE", "Quartier du Pont — caves inondées", nil)
		mayorSPage := d.page("maire-sommieres", mayorS)
		d.openDetail(mayorSPage, road)
		box := `document.querySelector('[data-testid="incident-reinforcements"]')`
		d.waitJS(mayorSPage, "no reinforcement yet", box+`?.textContent.includes('Aucun renfort demandé')`)
		d.do(mayorSPage, "the mayor asks for 3 pumps",
			chromedp.SetValue(chromedp.CSS(`[data-testid="request-kind"]`), "EQUIPMENT"),
			chromedp.SetValue(chromedp.CSS(`[data-testid="request-quantity"]`), "3"),
			chromedp.SetValue(chromedp.CSS(`[data-testid="request-reason"]`), "Pompage des caves du quartier du Pont"),
			chromedp.Click(chromedp.CSS(`[data-testid="request-submit"]`)))
		rf := box + `?.querySelector('[data-testid="reinforcement"]')`
		status := func(ctx context.Context, item string) string {
			return js[string](d, ctx, item+`?.querySelector('[data-testid="reinforcement-status"]')?.textContent || ''`)
		}
		d.waitJS(mayorSPage, "the request on the incident", `!!`+rf)
		id := js[string](d, mayorSPage, rf+`.dataset.reinforcementId`)
		if got, what := status(mayorSPage, rf), js[string](d, mayorSPage, rf+`.textContent`); got != "Demandé" || !strings.Contains(what, "Matériel — quantité demandée : 3") {
			t.Errorf("the mayor's incident says %q (%q), want « Demandé », « Matériel — quantité demandée : 3 »", got, what)
		}
		buttons := `.querySelectorAll('button, input').length`
		if n := js[int](d, mayorSPage, rf+buttons); n != 0 {
			t.Errorf("the mayor is offered %d controls on a request only the prefecture decides", n)
		}
		d.shot(mayorSPage, "reinforcement-requested")

		// The prefecture's board: the commune, the incident, « Accorder » with a quantity.
		onBoard := fmt.Sprintf(`document.querySelector('#reinforcements [data-testid="reinforcement"][data-reinforcement-id=%q]')`, id)
		d.waitJS(prefPage, "the request on the prefecture's board", `!!`+onBoard)
		if where := js[string](d, prefPage, onBoard+`.querySelector('[data-testid="reinforcement-where"]').textContent`); where != "Sommières · pour : Quartier du Pont — caves inondées" {
			t.Errorf("the prefecture reads the request as from %q", where)
		}
		d.shot(prefPage, "reinforcement-to-decide")
		d.do(prefPage, "the prefecture grants 2 of 3", chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`[data-reinforcement-id=%q] [data-testid="accept-quantity"]`, id)), "2"),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`#reinforcements [data-reinforcement-id=%q] [data-testid="accept-reinforcement"]`, id))))
		d.waitJS(prefPage, "granted in part", onBoard+`?.dataset.status === 'PARTIALLY_ACCEPTED'`)
		if got := status(prefPage, onBoard); got != "Accordé en partie" || !strings.Contains(js[string](d, prefPage, onBoard+`.textContent`), "accordée : 2") {
			t.Errorf("after granting 2 of 3 the board says %q: %q", got, js[string](d, prefPage, onBoard+`.textContent`))
		}
		d.waitJS(mayorSPage, "the mayor's incident hears it", rf+`?.dataset.status === 'PARTIALLY_ACCEPTED'`)
		js[bool](d, prefPage, onBoard+`.querySelector('[data-testid="dispatch-reinforcement"]').click() || true`)
		d.waitJS(prefPage, "on its way", onBoard+`?.dataset.status === 'DISPATCHED'`)
		if js[bool](d, prefPage, `!!`+onBoard+`.querySelector('[data-testid="arrive-reinforcement"]')`) {
			t.Error("the prefecture is offered to confirm an arrival only the commune sees")
		}

		// On the mayor's incident: « En route », the arrival to confirm, no « Aucun moyen engagé ».
		d.waitJS(mayorSPage, "the mayor reads it on its way", rf+`?.dataset.status === 'DISPATCHED'`)
		if got := status(mayorSPage, rf); got != "En route" {
			t.Errorf("on its way, the mayor's incident says %q, want « En route »", got)
		}
		if engaged := js[string](d, mayorSPage, `document.querySelector('#incident-view').textContent`); strings.Contains(engaged, "Aucun moyen engagé.") {
			t.Error("the incident says « Aucun moyen engagé. » while a reinforcement is on its way")
		}
		d.shot(mayorSPage, "reinforcement-on-its-way")

		// A role that may read but not act: the operator sees the status, no button.
		opPage := d.page("operateur-sommieres", operatorS)
		d.openDetail(opPage, road)
		d.waitJS(opPage, "the request on the operator's incident", rf+`?.dataset.status === 'DISPATCHED'`)
		if n := js[int](d, opPage, rf+buttons); n != 0 {
			t.Errorf("the operator is offered %d controls on the request", n)
		}
		if js[bool](d, opPage, `!!document.querySelector('[data-testid="request-form"]')`) {
			t.Error("the operator is offered to request a reinforcement")
		}
		d.shot(opPage, "reinforcement-operator")

		js[bool](d, mayorSPage, rf+`.querySelector('[data-testid="arrive-reinforcement"]').click() || true`)
		d.waitJS(mayorSPage, "arrived", rf+`?.dataset.status === 'ARRIVED' && `+rf+`.querySelector('[data-testid="reinforcement-status"]').textContent === 'Arrivé'`)
		js[bool](d, mayorSPage, rf+`.querySelector('[data-testid="release-reinforcement"]').click() || true`)
		d.waitJS(mayorSPage, "released", rf+`?.dataset.status === 'RELEASED' && `+rf+`.querySelector('[data-testid="reinforcement-status"]').textContent === 'Libéré'`)
		d.waitJS(prefPage, "released on the prefecture's board", onBoard+`?.dataset.status === 'RELEASED'`)
		d.reset(mayorSPage)
	})

	t.Run("every main view at every size: nothing out of the screen, a one-line header", func(t *testing.T) {
		d.t = t
		for _, s := range screens {
			d.resize(mayorPage, s)
			d.reset(mayorPage)
			d.waitJS(mayorPage, "the commune's board drawn", `!!document.querySelector('[data-testid="shelter"]') && !!document.querySelector('[data-testid="incident-row"]')`)
			d.checkLayout(mayorPage, s, "tableau-commune", true)
			if js[bool](d, mayorPage, `!document.querySelector('[data-testid="menu-toggle"]')?.offsetParent`) == (s.width < 1180) {
				t.Errorf("at %s the views' menu is offered %v", s.name, s.width < 1180)
			}
			if s.width < 1180 {
				d.do(mayorPage, "open the menu", chromedp.Click(chromedp.CSS(`[data-testid="menu-toggle"]`)))
				d.checkLayout(mayorPage, s, "menu", false)
				d.do(mayorPage, "close the menu", chromedp.Click(chromedp.CSS(`[data-testid="menu-toggle"]`)))
			}
			d.openDetail(mayorPage, flood)
			d.checkLayout(mayorPage, s, "incident", true)
			d.reset(mayorPage)
			js[bool](d, mayorPage, `document.querySelector('[data-testid="tab-approvals"]').click() || true`)
			item := fmt.Sprintf(`document.querySelector('[data-testid="approval-item"][data-alert-id=%q]')`, alert.ID)
			d.waitJS(mayorPage, "the alert in the inbox", "!!"+item)
			js[bool](d, mayorPage, item+`.querySelector('[data-testid="approve-alert"]').click() || true`)
			d.waitJS(mayorPage, "the approval dialog, audience counted", `document.querySelector('[data-testid="approve-dialog"]').open && document.querySelector('[data-testid="approve-audience"]')?.dataset.loaded === 'true'`)
			d.checkLayout(mayorPage, s, "alerte", true)
			d.do(mayorPage, "cancel", chromedp.Click(chromedp.CSS(`[data-testid="approve-cancel"]`)))

			d.resize(prefPage, s)
			d.reset(prefPage)
			d.waitJS(prefPage, "the département's board drawn", `!!document.querySelector('[data-testid="commune-row"]') && !!document.querySelector('#reinforcements [data-testid="reinforcement"]')`)
			d.checkLayout(prefPage, s, "tableau-prefecture", true)
		}
	})

	t.Run("on a phone, a field agent reports an incident where they stand; an operator adds to the main courante", func(t *testing.T) {
		d.t = t
		phone := screens[len(screens)-1]
		field := vigieToken(t, d.data, "agent-nimes", "field", nimes)
		p := d.page("agent", field)
		d.resize(p, phone)
		// The phone's position: the permission granted, the position set, through the
		// DevTools protocol (what the phone's GPS would say).
		lat, lon, acc := 43.8367, 4.3601, 12.0
		d.do(p, "the phone's position", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			c := chromedp.FromContext(ctx)
			if _, err := cdp.Call(ctx, c.Browser, browser.SetPermission, browser.SetPermissionParams{Permission: &browser.PermissionDescriptor{Name: "geolocation"},
				Setting: browser.PermissionSettingGranted, BrowserContextID: c.BrowserContextID}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
			return err
		}))
		if !js[bool](d, p, `(document.permissionsPolicy || document.featurePolicy).allowsFeature('geolocation')`) {
			t.Fatal("the page may not ask for the phone's position: the gateway's Permissions-Policy says geolocation=() (graph/dashboard/dashboard.go; geolocation=(self) lets the page ask)")
		}
		d.waitJS(p, "the report form with « Ajouter ma position »", `!!document.querySelector('[data-testid="report-locate"]')?.offsetParent`)
		d.do(p, "take the position", chromedp.Click(chromedp.CSS(`[data-testid="report-locate"]`)))
		d.waitJS(p, "the position's answer", `document.querySelector('[data-testid="report-position"]').textContent.startsWith('Position ') && !document.querySelector('[data-testid="report-position"]').textContent.includes('en cours')`)
		if got := js[string](d, p, `document.querySelector('[data-testid="report-position"]').textContent`); got != "Position : 43,8367 ; 4,3601 (à 12 m près)" {
			t.Fatalf("the position reads %q (%s)", got, js[string](d, p, `document.querySelector('[data-testid="report-position"]').dataset.error || ''`))
		}
		title := "Arbre tombé sur la chaussée, avenue Jean Jaurès " + uuid.NewString()[:4]
		d.do(p, "report", chromedp.SendKeys(chromedp.CSS(`[data-testid="report-title"]`), title),
			chromedp.SetValue(chromedp.CSS(`[data-testid="report-kind"]`), "STORM"))
		d.checkLayout(p, phone, "signalement", true)
		d.do(p, "send", chromedp.Click(chromedp.CSS(`[data-testid="report-submit"]`)))
		row := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="incident-row"]')].find(r => r.textContent.includes(%q))`, title)
		d.waitJS(p, "the reported incident on the agent's board", "!!"+row)
		id := js[string](d, p, row+`.dataset.incidentId`)
		d.waitJS(p, "its marker on the map, where the agent stands", fmt.Sprintf(`!!document.querySelector('[data-testid="map-incident"][data-incident-id=%q]')`, id))
		var inc struct{ Location struct{ Lat, Lon float64 } }
		d.gql().query(field, `query($id: ID!) { incident(id: $id) { location { lat lon } } }`, map[string]any{"id": id}, "incident", &inc)
		if inc.Location.Lat != lat || inc.Location.Lon != lon {
			t.Errorf("the incident was recorded at %+v, want the phone's %v, %v", inc.Location, lat, lon)
		}
		if got := js[string](d, p, `document.querySelector('[data-testid="report-position"]').textContent`); got != "" {
			t.Errorf("after the report the form still shows a position (%q): the next report would take it", got)
		}
		d.checkLayout(p, phone, "signale", true)

		// The field role may not write the main courante (policy.csv); an operator on a
		// phone does.
		operator := vigieToken(t, d.data, "operateur-nimes", "operator", nimes)
		op := d.page("operateur", operator)
		d.resize(op, phone)
		d.openDetail(op, id)
		d.do(op, "an entry from the phone", chromedp.SendKeys(chromedp.CSS(`[data-testid="log-text"]`), "Chaussée dégagée côté nord, déviation en place"),
			chromedp.Click(chromedp.CSS(`[data-testid="log-submit"]`)))
		d.waitJS(op, "the entry in the main courante", `[...document.querySelectorAll('[data-testid="log-entry"]')].some(e => e.textContent.includes('déviation en place'))`)
		d.checkLayout(op, phone, "main-courante", true)
	})
}
