package graph

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/redis/go-redis/v9"

	"vigie/projections/alertboard"
	"vigie/services/alerts/cap"
)

// The public CAP documents (CONTRACT: GET /cap/alerts/{id}.xml and
// /cap/{commune}/feed.atom). Only the published version of an alert is public,
// the one a mayor approved last: a draft, an alert waiting for the mayor and a
// revision of a sent alert waiting for approval are never served here, whoever
// asks. Every document is validated before it is served; one that does not
// validate is never served (the feed leaves its entry out).

// The answers' texts, in French: residents and their applications read them.
const (
	noPublicMessage = "Aucun message public pour cette alerte."
	notFound        = "Document introuvable : les messages CAP sont sous /cap/alerts/{id}.xml, le flux d'une commune sous /cap/{code INSEE}/feed.atom."
	noCommune       = "Aucune commune n'a ce code : le flux d'une commune est /cap/{code INSEE à 5 caractères}/feed.atom."
	unavailable     = "Le tableau des alertes est momentanément indisponible : réessayez dans un instant."
	invalidDocument = "Le message CAP de cette alerte est momentanément indisponible : il ne passe pas la validation du schéma CAP 1.2 et n'est donc pas publié."
	invalidFeed     = "Le flux des alertes de cette commune est momentanément indisponible."
)

// publicInput is what the alert's public CAP document is rendered from: its latest
// message with the published content. ok is false when nothing is public yet.
func publicInput(d alertboard.Alert) (cap.AlertInput, bool) {
	if d.Published == nil || len(d.Messages) == 0 {
		return cap.AlertInput{}, false
	}
	return cap.AlertInput{Domain: d.Domain, Exercise: d.Exercise, Messages: d.Messages, Content: d.Published.Content}.Latest(), true
}

// capHandlerLogged serves the CAP documents from the alerts board. A document
// that does not validate is logged with the alert's id and the validation error
// only: an alert's public text, never anyone's contact details.
func capHandlerLogged(rdb redis.UniversalClient, log *slog.Logger) http.Handler {
	board := func() alertboard.Reader { return alertboard.Reader{Redis: rdb} }
	alertDoc := func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(r.PathValue("file"), ".xml")
		if !ok || id == "" || len(id) > 200 {
			http.Error(w, notFound, http.StatusNotFound)
			return
		}
		d, found, err := board().Get(r.Context(), id)
		if err != nil {
			http.Error(w, unavailable, http.StatusServiceUnavailable)
			return
		}
		// The same answer whether the alert does not exist or is not public:
		// a draft's existence is nobody's business outside the crisis cell.
		in, public := publicInput(d)
		if !found || !public {
			http.Error(w, noPublicMessage, http.StatusNotFound)
			return
		}
		b, err := cap.Document(in)
		if err != nil {
			log.Error("cap: document not served, it does not validate", "alert", d.ID, "domain", d.Domain, "err", err)
			http.Error(w, invalidDocument, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", cap.MIMEType+"; charset=utf-8")
		_, _ = w.Write(b)
	}
	feed := func(w http.ResponseWriter, r *http.Request) {
		code := strings.TrimPrefix(r.PathValue("commune"), "com:")
		if len(code) != 5 {
			http.Error(w, noCommune, http.StatusNotFound)
			return
		}
		dep := code[:2]
		if strings.HasPrefix(code, "97") {
			dep = code[:3]
		}
		domain := "dep:" + dep + "/com:" + code
		docs, err := board().List(r.Context(), domain, nil)
		if err != nil {
			http.Error(w, unavailable, http.StatusServiceUnavailable)
			return
		}
		var items []cap.FeedItem
		for _, d := range docs {
			in, public := publicInput(d)
			if !public {
				continue
			}
			// The entry stands for the document it links to: not served, not listed.
			if err := cap.Check(in); err != nil {
				log.Error("cap: feed entry left out, its document does not validate", "alert", d.ID, "domain", d.Domain, "err", err)
				continue
			}
			items = append(items, cap.FeedItem{AlertID: d.ID, Input: in})
		}
		feed := cap.CommuneFeed(domain, items)
		b, err := cap.MarshalFeed(feed)
		if err != nil {
			log.Error("cap: feed not served", "domain", domain, "err", err)
			http.Error(w, invalidFeed, http.StatusServiceUnavailable)
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
			http.Error(w, notFound, http.StatusNotFound)
		}
	})
	// Anything else under /cap/ (the gateway routes the whole prefix here): the
	// same French answer rather than the mux's English one.
	mux.HandleFunc("/cap/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, notFound, http.StatusNotFound)
	})
	return mux
}
