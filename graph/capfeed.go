package graph

import (
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/projections/alertboard"
	"vigie/services/alerts/cap"
)

// The public CAP documents (CONTRACT: GET /cap/alerts/{id}.xml and
// /cap/{commune}/feed.atom). Only messages that went out are public: a draft or an
// alert waiting for the mayor is not found here, whoever asks.

// capSender names the commune as CAP's sender: no spaces, commas, '<' or '&'.
func capSender(domain string) string {
	return "vigie." + strings.NewReplacer(":", "", "/", ".").Replace(domain)
}

func insee(domain string) string {
	_, com, _ := strings.Cut(domain, "/com:")
	return com
}

// CAPMessage renders the i-th message of an alert as CAP 1.2: Update and Cancel
// name every earlier message in references.
func CAPMessage(d alertboard.Alert, i int) cap.Alert {
	m := d.Messages[i]
	c := d.Content
	status := "Actual"
	if d.Exercise {
		status = "Exercise"
	}
	out := cap.Alert{
		Identifier: m.Identifier, Sender: capSender(d.Domain), Sent: cap.At(m.Sent), Status: status,
		MsgType: string(m.MsgType), Scope: "Public",
	}
	var refs []cap.Reference
	for _, prev := range d.Messages[:i] {
		refs = append(refs, cap.Reference{Sender: out.Sender, Identifier: prev.Identifier, Sent: cap.At(prev.Sent)})
	}
	if len(refs) > 0 {
		out.References = cap.FormatReferences(refs)
	}
	area := cap.Area{AreaDesc: c.AreaDesc, Geocodes: []cap.NameValue{{ValueName: "INSEE", Value: insee(d.Domain)}}}
	if len(c.Polygon) >= 3 {
		pts := make([][2]float64, len(c.Polygon))
		for j, p := range c.Polygon {
			pts[j] = [2]float64{p.Lat, p.Lon}
		}
		area.Polygons = []string{cap.Polygon(pts)}
	}
	info := cap.Info{
		Language: c.Language, Categories: []string{string(c.Category)}, Event: c.Event,
		Urgency: string(c.Urgency), Severity: string(c.Severity), Certainty: string(c.Certainty),
		SenderName: "Vigie — " + d.Domain, Headline: c.Headline, Description: c.Description, Instruction: c.Instruction,
		Areas: []cap.Area{area},
	}
	if c.Effective != nil {
		info.Effective = cap.At(*c.Effective)
	}
	// CAP forbids expires before sent; an alert approved after its content's expiry
	// is refused by the domain, but a Cancel may come later: it then carries no expiry.
	if c.Expires != nil && !c.Expires.Before(m.Sent) {
		info.Expires = cap.At(*c.Expires)
	}
	out.Infos = []cap.Info{info}
	return out
}

// capHandler serves the CAP documents from the alerts board.
func capHandler(rdb redis.UniversalClient) http.Handler {
	board := func() alertboard.Reader { return alertboard.Reader{Redis: rdb} }
	alertDoc := func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(r.PathValue("file"), ".xml")
		if !ok || id == "" || len(id) > 200 {
			http.NotFound(w, r)
			return
		}
		d, found, err := board().Get(r.Context(), id)
		if err != nil {
			http.Error(w, "read model unavailable", http.StatusServiceUnavailable)
			return
		}
		if !found || len(d.Messages) == 0 {
			http.NotFound(w, r)
			return
		}
		b, err := cap.Marshal(CAPMessage(d, len(d.Messages)-1))
		if err != nil {
			http.Error(w, "CAP rendering failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", cap.MIMEType+"; charset=utf-8")
		_, _ = w.Write(b)
	}
	feed := func(w http.ResponseWriter, r *http.Request) {
		code := strings.TrimPrefix(r.PathValue("commune"), "com:")
		if len(code) != 5 {
			http.NotFound(w, r)
			return
		}
		dep := code[:2]
		if strings.HasPrefix(code, "97") {
			dep = code[:3]
		}
		domain := "dep:" + dep + "/com:" + code
		docs, err := board().List(r.Context(), domain, nil)
		if err != nil {
			http.Error(w, "read model unavailable", http.StatusServiceUnavailable)
			return
		}
		base := "urn:vigie:cap:" + code
		feed := cap.Feed{ID: base, Title: "Alertes de la commune " + code, Link: "/cap/" + code + "/feed.atom", Author: capSender(domain), Updated: time.Unix(0, 0).UTC()}
		for _, d := range docs {
			if len(d.Messages) == 0 {
				continue
			}
			last := d.Messages[len(d.Messages)-1]
			if last.Sent.After(feed.Updated) {
				feed.Updated = last.Sent
			}
			title := d.Content.Headline
			if last.MsgType == "Cancel" {
				title = "Annulé : " + title
			}
			feed.Entries = append(feed.Entries, cap.Entry{ID: base + ":" + last.Identifier, Title: title, Updated: last.Sent, Summary: d.Content.Description, Link: "/cap/alerts/" + d.ID + ".xml"})
		}
		b, err := cap.MarshalFeed(feed)
		if err != nil {
			http.Error(w, "feed rendering failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		_, _ = w.Write(b)
	}
	// One pattern for both: /cap/alerts/{id}.xml and /cap/{commune}/feed.atom overlap
	// for the mux ("/cap/alerts/feed.atom"); alerts is no commune code.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cap/{commune}/{file}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("commune") == "alerts":
			alertDoc(w, r)
		case r.PathValue("file") == "feed.atom":
			feed(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	return mux
}
