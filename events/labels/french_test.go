package labels_test

import (
	"testing"
	"time"

	"vigie/events/labels"
	"vigie/events/labels/frenchtest"
)

func TestPlacesByName(t *testing.T) {
	for _, c := range []struct{ domain, place, in string }{
		{"dep:30/com:30189", "Nîmes", "de Nîmes"},
		{"dep:30/com:30007", "Alès", "d'Alès"},
		{"dep:30", "Gard (30)", "du département du Gard"},
		{"dep:30/*", "Gard (30)", "du département du Gard"},
		{"dep:13", "département 13", "du département 13"},
		{"dep:30/com:30999", "commune 30999", "de la commune 30999"},
		{"dep:13/com:13047", "commune 13047", "de la commune 13047"},
		{"nowhere", "nowhere", "de nowhere"},
	} {
		if got := labels.Place(c.domain); got != c.place {
			t.Errorf("Place(%q) = %q, want %q", c.domain, got, c.place)
		}
		if got := labels.PlaceIn(c.domain); got != c.in {
			t.Errorf("PlaceIn(%q) = %q, want %q", c.domain, got, c.in)
		}
	}
}

// The 353 communes of the Gard whose outlines ship have a name each.
func TestTheGardsCommunesAreNamed(t *testing.T) {
	named := 0
	for i := 1; i <= 999; i++ {
		code := "30" + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
		if labels.Commune(code) != "commune "+code {
			named++
		}
	}
	if named != 353 {
		t.Errorf("%d communes of the Gard named, want 353", named)
	}
}

func TestPlurals(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{labels.Plural(0, "échec", "échecs"), "0 échec"},
		{labels.Plural(1, "destinataire", "destinataires"), "1 destinataire"},
		{labels.Plural(2, "destinataire", "destinataires"), "2 destinataires"},
		{labels.Plural(1, "disponible", "disponibles"), "1 disponible"},
		{labels.Plural(3, "engagé", "engagés"), "3 engagés"},
		{labels.ResourceKinds.Count(1, "team"), "1 équipe"},
		{labels.ResourceKinds.Count(3, "team"), "3 équipes"},
		{labels.ResourceKinds.Count(2, "robot"), "2 robot"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	fr, _ := labels.Channels.Lookup("FR_ALERT")
	sms, _ := labels.Channels.Lookup("SMS")
	if fr.Agree("refusé") != "refusée" || sms.Agree("remis") != "remis" {
		t.Error("participles do not agree with the channels")
	}
}

func TestDurationsInFrench(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"}, {400 * time.Millisecond, "0 s"}, {4 * time.Second, "4 s"}, {83 * time.Second, "1 min 23 s"},
		{9 * time.Minute, "9 min"}, {2*time.Hour + 5*time.Minute + 7*time.Second, "2 h 05 min"}, {3 * time.Hour, "3 h"},
		{27 * time.Hour, "1 j 3 h"}, {-4 * time.Second, "−4 s"},
	} {
		if got := labels.Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := labels.Seconds(83.6); got != "1 min 23 s" {
		t.Errorf("Seconds(83.6) = %q", got)
	}
}

// Times are Paris', with the offset: summer's +02:00, winter's +01:00.
func TestTimesInParisWithTheirOffset(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 10, 17, 6, 1, 0, 0, time.UTC), "17/10/2026 08:01:00 (UTC+02:00)"},
		{time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC), "28/11/2026 00:30:00 (UTC+01:00)"},
		{time.Time{}, ""},
	} {
		if got := labels.Time(c.t); got != c.want {
			t.Errorf("Time(%v) = %q, want %q", c.t, got, c.want)
		}
	}
	if got := labels.Clock(time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)); got != "21:00" {
		t.Errorf("Clock = %q", got)
	}
}

// Every event type of the contract has a French label, and no more.
func TestEveryEventTypeHasALabel(t *testing.T) {
	sameValues(t, "event types", labels.EventTypes, frenchtest.EventTypes())
}

func TestTruncate(t *testing.T) {
	if got := labels.Truncate("Montée  des\neaux", 40); got != "Montée des eaux" {
		t.Errorf("%q", got)
	}
	if got := labels.Truncate("Montée des eaux rue Jean-Jaurès", 12); got != "Montée des…" {
		t.Errorf("%q", got)
	}
}
