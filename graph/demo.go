package graph

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"vigie/graph/auth"
	"vigie/policies"
)

// DemoInbox is what the demonstration's local providers (an SMS and voice gateway and
// an SMTP server inside `vigie demo`) received: the dashboard shows it on its
// « Messages reçus (démonstration) » page, so that a newcomer sees delivery, failure
// and cancellation for real. Nil everywhere else: the page is then absent.
type DemoInbox interface {
	// Received returns every message received so far, in any order. It must be safe
	// for concurrent use.
	Received() []DemoMessage
}

// DemoMessage is one message a local provider received.
type DemoMessage struct {
	At      time.Time
	Channel string // SMS, VOICE, EMAIL…
	To      string // a phone number or an e-mail address, as the provider received it
	Subject string
	Body    string
	// Exercise: the message said it was an exercise.
	Exercise bool
}

// demoLimit bounds the page: the latest messages only.
const demoLimit = 500

// demoMessage is a DemoMessage as the page receives it: the recipient masked.
type demoMessage struct {
	At       time.Time `json:"at"`
	Channel  string    `json:"channel"`
	To       string    `json:"to"`
	Subject  string    `json:"subject,omitempty"`
	Body     string    `json:"body"`
	Exercise bool      `json:"exercise"`
}

// demoHandler serves GET /demo/messages.json: {"messages": [...], "total": n}, the
// newest first, recipients partially masked. Behind the gateway's authentication:
// the caller must hold a grant that may read alerts somewhere.
func demoHandler(inbox DemoInbox, authz *policies.Authorizer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		c, err := auth.FromContext(r.Context())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			demoError(w, http.StatusUnauthorized, "authentification requise : Authorization: Bearer <jeton>")
			return
		}
		if authz != nil && !readsAlerts(authz, c.Principal) {
			demoError(w, http.StatusForbidden, "accès refusé")
			return
		}
		got := inbox.Received()
		slices.SortStableFunc(got, func(a, b DemoMessage) int { return b.At.Compare(a.At) })
		out := struct {
			Total    int           `json:"total"`
			Messages []demoMessage `json:"messages"`
		}{Total: len(got), Messages: make([]demoMessage, 0, min(len(got), demoLimit))}
		for _, m := range got[:min(len(got), demoLimit)] {
			out.Messages = append(out.Messages, demoMessage{At: m.At, Channel: m.Channel, To: MaskRecipient(m.To), Subject: m.Subject, Body: m.Body, Exercise: m.Exercise})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

func demoError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// readsAlerts: one of the caller's grants (of the token or of the log) may read alerts.
func readsAlerts(authz *policies.Authorizer, p policies.Principal) bool {
	for _, g := range append(slices.Clone(p.Grants), authz.GrantsOf(p.Subject)...) {
		if authz.Authorize(p, g.Domain, policies.ObjectAlert, policies.ActionRead) == nil {
			return true
		}
	}
	return false
}

// MaskRecipient hides most of a recipient: a phone number keeps its first three and
// last two characters (+33•••••••78), an e-mail address the first letter of its
// local part and of its domain, and its top-level domain (h•••@e•••.org); anything
// else its first and last two characters.
func MaskRecipient(to string) string {
	const dot, dots = "•", "•••"
	keep := func(s string, head, tail int) string {
		n := utf8.RuneCountInString(s)
		if n <= head+tail {
			return strings.Repeat(dot, max(n, 1))
		}
		r := []rune(s)
		return string(r[:head]) + strings.Repeat(dot, n-head-tail) + string(r[n-tail:])
	}
	to = strings.TrimSpace(to)
	if to == "" {
		return ""
	}
	if local, domain, ok := strings.Cut(to, "@"); ok {
		first := func(s string) string {
			r, _ := utf8.DecodeRuneInString(s)
			if r == utf8.RuneError {
				return ""
			}
			return string(r)
		}
		host, tld := domain, ""
		if i := strings.LastIndex(domain, "."); i > 0 {
			host, tld = domain[:i], domain[i:]
		}
		return first(local) + dots + "@" + first(host) + dots + tld
	}
	if strings.Trim(to, "+0123456789 .-()") == "" {
		return keep(strings.Map(func(r rune) rune {
			if r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' {
				return -1
			}
			return r
		}, to), 3, 2)
	}
	return keep(to, 2, 2)
}
