package replay_test

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/events/labels/frenchtest"
	"vigie/projections/replay"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/cap"
)

var (
	// The report keeps the identifiers of the causal chain for the audit, in
	// cells of class "ids": everything else is for a person to read.
	idCells = regexp.MustCompile(`(?s)<(span|td) class="ids">.*?</(span|td)>`)
	styles  = regexp.MustCompile(`(?s)<style>.*?</style>`)
	tags    = regexp.MustCompile(`<[^>]*>`)
)

// readable is the text a person reads of an HTML page.
func readable(page string) string {
	page = styles.ReplaceAllString(page, "")
	page = idCells.ReplaceAllString(page, " ")
	return html.UnescapeString(tags.ReplaceAllString(page, " "))
}

// humanFields are the values of the JSON's fields a person reads (the others
// are identifiers and values for programs).
func humanFields(v any, keys map[string]bool, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && keys[k] {
				*out = append(*out, k+": "+s)
			} else {
				humanFields(x, keys, out)
			}
		}
	case []any:
		for _, x := range v {
			humanFields(x, keys, out)
		}
	}
}

// Every text a person reads of a crisis, the after-action report (HTML and
// JSON), the timeline's entries, the CAP document and the commune's feed, is
// French: no English word of the code, no raw enum or event type, no identifier
// (but in the audit's cells), no Go duration, no plural mistake.
func TestEveryTextOfACrisisIsFrench(t *testing.T) {
	ctx := context.Background()
	r, s, _ := crisisReplayer(t, 0)
	x := "alert-" + s.ID("X")
	// The FR-Alert of the crisis' alert, refused; its feed published.
	s.alert(x, rac, alert.FrAlertRequested{By: rac.Subject, At: s.Now()})
	s.alert(x, pref, alert.FrAlertRefused{Reason: "Pas de danger immédiat", By: pref.Subject, At: s.Now()})
	s.alert("dispatch-"+s.ID("X"), mayor, alert.DeliveriesRecorded{AlertID: s.ID("X"), Domain: nimes, Identifier: "urn:x",
		Channel: alert.ChannelCAPFeed, Sent: 1, Delivered: 1, At: s.Now()})
	s.alert(x, mayor, alert.AlertDispatchStarted{Identifier: "urn:x", Recipients: map[string]int{"SMS": 1}, At: s.Now()})

	check := func(what, text string) {
		t.Helper()
		// People are named by their subject where the log records no display
		// name (it records none yet): the test's subjects are no English.
		for _, a := range []string{mayor.Subject, rac.Subject, pref.Subject} {
			text = strings.ReplaceAll(text, a, "personne")
		}
		frenchtest.Check(t, what, text)
		if strings.Contains(text, s.Run) {
			t.Errorf("%s: a raw identifier of the test (…-%s) in:\n%s", what, s.Run, text)
		}
	}
	for _, domain := range []string{gard, nimes} {
		rep, err := r.Report(ctx, replay.ReportOptions{Domain: domain, At: []time.Time{s.Start.Add(12 * s.Tick), s.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		var page, js strings.Builder
		if err := rep.WriteHTML(&page); err != nil {
			t.Fatal(err)
		}
		check("report "+domain+" (HTML)", readable(page.String()))
		if err := rep.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal([]byte(js.String()), &doc); err != nil {
			t.Fatal(err)
		}
		var fields []string
		humanFields(doc, map[string]bool{"place": true, "summary": true, "title": true, "headline": true, "typeLabel": true,
			"person": true, "roleLabel": true, "delayLabel": true, "worstLabel": true, "name": true, "text": true}, &fields)
		check("report "+domain+" (JSON)", strings.Join(fields, "\n"))
		// Times are Paris', with the offset: a reader of the export is in France.
		if !strings.Contains(js.String(), `:00+02:00"`) || strings.Contains(js.String(), `:00Z"`) {
			t.Errorf("report %s (JSON): times not in Europe/Paris with their offset", domain)
		}
		var entries []string
		for _, e := range rep.Timeline {
			entries = append(entries, e.Summary)
		}
		check("timeline "+domain, strings.Join(entries, "\n"))

		// The alert's public CAP document and the commune's feed: what a
		// resident's application shows.
		last := rep.Boards[len(rep.Boards)-1]
		var alerts []cap.FeedItem
		for _, a := range last.Alerts {
			if a.Published == nil {
				continue
			}
			in := cap.AlertInput{Domain: a.Domain, Exercise: a.Exercise, Messages: a.Messages, Content: a.Published.Content}.Latest()
			alerts = append(alerts, cap.FeedItem{AlertID: a.ID, Input: in})
			doc, err := cap.Render(in)
			if err != nil {
				t.Fatal(err)
			}
			info := doc.Infos[0]
			check("CAP document", strings.Join([]string{info.SenderName, info.Event, info.Headline, info.Description, info.Instruction, info.Areas[0].AreaDesc}, "\n"))
		}
		if len(alerts) == 0 {
			t.Fatalf("report %s: no published alert", domain)
		}
		if domain == nimes {
			feed := cap.CommuneFeed(domain, alerts)
			text := []string{feed.Title, feed.Author}
			for _, e := range feed.Entries {
				text = append(text, e.Title, e.Summary)
			}
			check("Atom feed", strings.Join(text, "\n"))
		}
	}
}
