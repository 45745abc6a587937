package graph

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/projections/alertboard"
	"vigie/projections/projectiontest"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/cap/captest"
)

// TestADocumentThatDoesNotValidateIsNeverServed: an alert whose published content
// would make an invalid CAP document (an effective date in year 0000, written to the
// log before the domain refused such dates) is answered 503 in French, left out of
// the feed, and logged with its id; the valid alert beside it is served and listed.
func TestADocumentThatDoesNotValidateIsNeverServed(t *testing.T) {
	st, _ := projectiontest.Store(t)
	rdb := projectiontest.Redis(t)
	s := projectiontest.NewScript(t, st, alert.Register)
	const nimes = "dep:30/com:30189"
	rac := events.Actor{Subject: "rac", Role: events.RoleRAC}
	mayor := events.Actor{Subject: "maire", Role: events.RoleMayor}
	zero := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, effective := range map[string]*time.Time{"broken": &zero, "fine": nil} {
		stream := "alert-" + s.ID(name)
		c := alert.Content{Event: "Crue", Headline: "Crue du Vistre (" + name + ")", Description: "Le Vistre déborde.", Instruction: "Montez à l'étage.",
			Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved, Category: alert.CategoryMet,
			AreaDesc: "Nîmes", Language: "fr-FR", Effective: effective}
		s.Raw(stream, rac, nimes, alert.AlertDrafted{AlertID: s.ID(name), Domain: nimes, Content: c, Channels: []alert.Channel{alert.ChannelCAPFeed}, By: rac.Subject, At: s.Now()})
		s.Raw(stream, rac, nimes, alert.AlertSubmitted{By: rac.Subject, At: s.Now()})
		at := s.Now()
		s.Raw(stream, mayor, nimes, alert.AlertApproved{By: mayor.Subject, Version: 1, Message: alert.Message{Identifier: s.ID(name) + ".1", Sent: at, MsgType: alert.MsgTypeAlert}, At: at})
	}
	p, err := alertboard.New()
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Project(t, rdb, st, p, 0)
	projectiontest.WaitCaughtUp(t, rdb, st, alertboard.Name)

	var logs bytes.Buffer
	srv := httptest.NewServer(capHandlerLogged(rdb, slog.New(slog.NewTextHandler(&logs, nil))))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, body := get("/cap/alerts/" + s.ID("broken") + ".xml")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "ne passe pas la validation") || strings.Contains(body, "<alert") {
		t.Errorf("the invalid document: HTTP %d %q, want 503 in French and no document", code, body)
	}
	if !strings.Contains(logs.String(), s.ID("broken")) || !strings.Contains(logs.String(), "effective") {
		t.Errorf("the refusal is not logged with the alert and the reason: %s", logs.String())
	}
	code, body = get("/cap/alerts/" + s.ID("fine") + ".xml")
	if code != http.StatusOK {
		t.Fatalf("the valid document: HTTP %d %s", code, body)
	}
	captest.Valid(t, []byte(body))
	code, body = get("/cap/30189/feed.atom")
	if code != http.StatusOK || strings.Contains(body, s.ID("broken")) || !strings.Contains(body, s.ID("fine")) {
		t.Errorf("feed: HTTP %d, want the valid alert only:\n%s", code, body)
	}
}
