// Package frenchtest finds, in a text a person reads (a report, a timeline, a CAP
// document, a feed), what is not French: English words of the code, raw enum
// values and event types, identifiers (UUIDs, domains), Go's durations, and the
// plural mistakes a count with a fixed word makes (« 1 destinataires »,
// « 3 engagé »). The tests of every French output share it, so that one list says
// what no person should read.
package frenchtest

import (
	"regexp"
	"strings"
	"testing"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resident"
	"vigie/events/resource"
	"vigie/events/role"
)

// words are English words and raw values of the code that a French text never
// says (case-sensitive, whole words).
var words = []string{
	"refused", "validated", "approved", "rejected", "requested", "pending", "pending_approval",
	"dispatching", "partially_sent", "fr_alert_requested", "fr_alert_refused", "Reported", "reported",
	"qualified", "escalated", "stabilized", "closed", "available", "engaged", "unavailable",
	"demobilized", "flash_flood", "flood", "wildfire", "equipment", "vehicle", "shelter", "team",
	"Severe", "Moderate", "Extreme", "Minor", "CAP_FEED", "FR_ALERT", "DELIVERED", "PARTIAL",
	"FAILED", "REFUSED", "SENDING", "PENDING", "mayor", "operator", "prefecture", "incident(s)",
}

var (
	wordRe = func() *regexp.Regexp {
		var alt []string
		for _, w := range append(words, EventTypes()...) {
			alt = append(alt, regexp.QuoteMeta(w))
		}
		return regexp.MustCompile(`(^|[^\pL\pN_])(` + strings.Join(alt, "|") + `)($|[^\pL\pN_])`)
	}()
	patterns = []struct {
		what string
		re   *regexp.Regexp
	}{
		{"an identifier", regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)},
		{"a domain", regexp.MustCompile(`dep:[0-9AB]+|com:[0-9AB]{5}`)},
		{"a duration in Go's notation", regexp.MustCompile(`(^|[^\pL\pN])\d+(h\d+m)?(\d+m)?\d+(\.\d+)?(s|ms|µs)($|[^\pL\pN])|(^|[^\pL\pN])\d+m\d+(\.\d+)?s`)},
		{"a plural after one", regexp.MustCompile(`(^|[^\pN,./])[01] (destinataires|disponibles|envoyés|engagés|engagées|échecs|places|personnes|canaux|événements|équipes|véhicules|ressources|incidents|alertes|entrées)($|[^\pL])`)},
		{"a singular after many", regexp.MustCompile(`(^|[^\pN,./])([2-9]|[1-9]\d+) (destinataire|disponible|envoyé|engagé|engagée|échec|place|personne|canal|événement|équipe|véhicule|ressource|incident|alerte|entrée)($|[^\pL])`)},
	}
)

// EventTypes are the contract's event types, every context's: « IncidentReported »
// is code, which no French text says.
func EventTypes() []string {
	var out []string
	for _, list := range [][]events.Event{incident.Events(), resource.Events(), reinforcement.Events(), alert.Events(), resident.Events(), role.Events()} {
		for _, e := range list {
			out = append(out, e.EventType())
		}
	}
	return out
}

// Mistakes are what text says that no French reader should read, each with what
// it is.
func Mistakes(text string) []string {
	var out []string
	for _, m := range wordRe.FindAllStringSubmatch(text, -1) {
		out = append(out, "English or code: "+m[2])
	}
	for _, p := range patterns {
		for _, m := range p.re.FindAllString(text, -1) {
			out = append(out, p.what+": "+strings.TrimSpace(m))
		}
	}
	return out
}

// Check fails t for each mistake of text, what naming the output.
func Check(t testing.TB, what, text string) {
	t.Helper()
	for _, m := range Mistakes(text) {
		t.Errorf("%s: %s", what, m)
	}
}
