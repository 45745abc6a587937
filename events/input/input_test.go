package input_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/input"
)

var errFamily = fmt.Errorf("thing: %w", events.ErrInvalidInput)

// problem returns the field and problem of err, failing unless it is an
// *input.Error of errFamily.
func problem(t *testing.T, err error) (field, problem string) {
	t.Helper()
	var ie *input.Error
	if !errors.As(err, &ie) || !errors.Is(err, errFamily) || !errors.Is(err, events.ErrInvalidInput) {
		t.Fatalf("error %v is not an *input.Error of its family", err)
	}
	return ie.Field, ie.Problem
}

func TestErrorNamesItsFamilyFieldAndProblem(t *testing.T) {
	err := input.Invalid(errFamily, "title", "vide")
	if got, want := err.Error(), "thing: saisie invalide: title: vide"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	problem(t, err)
	if other := fmt.Errorf("other: %w", events.ErrInvalidInput); errors.Is(err, other) {
		t.Error("an error of one family matches another")
	}
}

func TestErrorWithoutAFamilyIsStillInvalidInput(t *testing.T) {
	err := &input.Error{Field: "content", Problem: "missing"}
	if !errors.Is(err, events.ErrInvalidInput) || err.Error() != "saisie invalide: content: missing" {
		t.Errorf("got %q, is invalid input: %v", err, errors.Is(err, events.ErrInvalidInput))
	}
}

func TestTextTrimsAndChecksLengthAndCharacters(t *testing.T) {
	if s, err := input.Text(errFamily, "title", "  Crue du Gardon \n", 1, 20, false); err != nil || s != "Crue du Gardon" {
		t.Errorf("Text = %q, %v", s, err)
	}
	if s, err := input.Text(errFamily, "log", "ligne 1\n\tligne 2", 1, 20, true); err != nil || s != "ligne 1\n\tligne 2" {
		t.Errorf("multi-line Text = %q, %v", s, err)
	}
	if s, err := input.Text(errFamily, "note", "   ", 0, 20, false); err != nil || s != "" {
		t.Errorf("optional empty Text = %q, %v", s, err)
	}
	if s, err := input.Text(errFamily, "title", strings.Repeat("é", 5), 1, 5, false); err != nil || s != "ééééé" {
		t.Errorf("Text counts runes, not bytes: %q, %v", s, err)
	}
	for name, c := range map[string]struct {
		s           string
		least, most int
		multiLine   bool
		want        string
	}{
		"invalid UTF-8":              {"a\xffb", 1, 20, false, "texte illisible (UTF-8 invalide)"},
		"empty but required":         {" ", 1, 20, false, "de 1 à 20 caractères attendus"},
		"too long":                   {"abcdef", 1, 5, false, "de 1 à 5 caractères attendus"},
		"too long, optional":         {"abcdef", 0, 5, false, "plus de 5 caractères"},
		"a newline on one line":      {"a\nb", 1, 20, false, "caractère de contrôle interdit"},
		"a NUL in a multi-line text": {"a\x00b", 1, 20, true, "caractère de contrôle interdit"},
	} {
		_, err := input.Text(errFamily, "f", c.s, c.least, c.most, c.multiLine)
		if field, p := problem(t, err); field != "f" || p != c.want {
			t.Errorf("%s: %s: %s, want f: %s", name, field, p, c.want)
		}
	}
}

func TestIDIsTakenAsGiven(t *testing.T) {
	for _, ok := range []string{"i-1", "a:b/c", strings.Repeat("x", 8), "é"} {
		if err := input.ID(errFamily, "id", ok, 8); err != nil {
			t.Errorf("ID(%q) = %v", ok, err)
		}
	}
	for s, want := range map[string]string{
		"":                     "vide",
		strings.Repeat("x", 9): "plus de 8 octets",
		"\xff":                 "texte illisible (UTF-8 invalide)",
		" i-1":                 "espace ou caractère de contrôle interdit",
		"i 1":                  "espace ou caractère de contrôle interdit",
		"i\x001":               "espace ou caractère de contrôle interdit",
		"i\u00a01":             "espace ou caractère de contrôle interdit",
	} {
		if field, p := problem(t, input.ID(errFamily, "id", s, 8)); field != "id" || p != want {
			t.Errorf("ID(%q): %s: %s, want id: %s", s, field, p, want)
		}
	}
}

func TestActorNeedsASubjectAKnownRoleAndATime(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rac := events.Actor{Subject: "u-1", Role: events.RoleRAC}
	if err := input.Actor(errFamily, rac, at); err != nil {
		t.Errorf("Actor(rac) = %v", err)
	}
	system := events.Actor{Subject: "dispatcher", Role: "system"}
	if err := input.Actor(errFamily, system, at, "system"); err != nil {
		t.Errorf("Actor(system) with system as an extra role = %v", err)
	}
	for name, c := range map[string]struct {
		by           events.Actor
		at           time.Time
		field, wants string
	}{
		"no subject":              {events.Actor{Role: events.RoleRAC}, at, "by", "personne sans identifiant"},
		"unknown role":            {events.Actor{Subject: "u-1", Role: "mayor "}, at, "by", `rôle inconnu "mayor "`},
		"an extra role not given": {system, at, "by", `rôle inconnu "system"`},
		"zero time":               {rac, time.Time{}, "at", "heure manquante"},
	} {
		if field, p := problem(t, input.Actor(errFamily, c.by, c.at)); field != c.field || p != c.wants {
			t.Errorf("%s: %s: %s, want %s: %s", name, field, p, c.field, c.wants)
		}
	}
}

type point struct{ lat, lon float64 }

func latLon(p point) (float64, float64) { return p.lat, p.lon }

func TestPointIsOnEarth(t *testing.T) {
	for _, p := range []point{{0, 0}, {90, 180}, {-90, -180}, {43.8367, 4.3601}} {
		if err := input.Point(errFamily, "location", p.lat, p.lon); err != nil {
			t.Errorf("Point(%v) = %v", p, err)
		}
	}
	lat := "la latitude est un nombre de -90 à 90"
	lon := "la longitude est un nombre de -180 à 180"
	for p, want := range map[point]string{
		{90.01, 0}: lat, {-91, 0}: lat, {math.Inf(1), 0}: lat,
		{0, 180.5}: lon, {0, -181}: lon, {0, math.Inf(-1)}: lon,
	} {
		if field, got := problem(t, input.Point(errFamily, "location", p.lat, p.lon)); field != "location" || got != want {
			t.Errorf("Point(%v): %s: %s, want location: %s", p, field, got, want)
		}
	}
	if _, got := problem(t, input.Point(errFamily, "location", math.NaN(), 0)); got != lat {
		t.Errorf("Point(NaN, 0): %s", got)
	}
}

func TestPolygonCountsItsPointsAndNamesTheWrongOne(t *testing.T) {
	triangle := []point{{43.8, 4.3}, {43.9, 4.3}, {43.9, 4.4}}
	if err := input.Polygon(errFamily, "zone", triangle, 3, 4, latLon); err != nil {
		t.Errorf("Polygon(triangle) = %v", err)
	}
	for name, c := range map[string]struct {
		ring         []point
		field, wants string
	}{
		"no point":    {nil, "zone", "un polygone a de 3 à 4 points"},
		"two points":  {triangle[:2], "zone", "un polygone a de 3 à 4 points"},
		"five points": {append(triangle, triangle[:2]...), "zone", "un polygone a de 3 à 4 points"},
		"a point off": {append(triangle[:2:2], point{43.9, 200}), "zone[2]", "la longitude est un nombre de -180 à 180"},
	} {
		if field, p := problem(t, input.Polygon(errFamily, "zone", c.ring, 3, 4, latLon)); field != c.field || p != c.wants {
			t.Errorf("%s: %s: %s, want %s: %s", name, field, p, c.field, c.wants)
		}
	}
}

// The cases of policies/territory's tests that are communes, or are not.
func TestCommuneDomainFollowsTheTerritoryRules(t *testing.T) {
	for _, ok := range []string{
		"dep:30/com:30189", "dep:2A/com:2A004", "dep:2B/com:2B033", "dep:13/com:13047",
		"dep:971/com:97101", "dep:974/com:97411", "dep:988/com:98818", "dep:01/com:01001", "dep:95/com:95690",
	} {
		if err := input.CommuneDomain(errFamily, ok); err != nil {
			t.Errorf("CommuneDomain(%q) = %v", ok, err)
		}
	}
	shape := "attendu le territoire d'une commune, comme dep:30/com:30189"
	insee := "le code INSEE de la commune a 5 caractères et commence par le code de son département"
	for in, want := range map[string]string{
		"": shape, "dep:30": shape, "dep:30/*": shape, "com:30189": shape, " dep:30/com:30189": shape,
		"DEP:30/COM:30189": shape, "dep:3/com:30189": shape, "dep:20/com:20004": shape, "dep:00/com:00001": shape,
		"dep:96/com:96001": shape, "dep:979/com:97901": shape, "dep:2a/com:2a004": shape,
		"dep:30//com:30189": shape, "dep:30/commune:30189": shape, "dep:30/epci:243000643": shape,
		"dep:30/com:": insee, "dep:30/com:3018": insee, "dep:30/com:301890": insee, "dep:30/com:13047": insee,
		"dep:30/com:30A89": insee, "dep:30/com:30189/x": insee, "dep:30/com:30189\n": insee,
		"dep:2A/com:2B004": insee, "dep:971/com:97201": insee, "dep:971/com:9710": insee,
	} {
		if field, p := problem(t, input.CommuneDomain(errFamily, in)); field != "domain" || p != want {
			t.Errorf("CommuneDomain(%q): %s: %s, want domain: %s", in, field, p, want)
		}
	}
}

// The characters of the Trojan Source and look-alike attacks: a title, a headline
// or a log entry holding one reads otherwise than it is (or than another that
// looks the same), so it is refused, and the error says which one.
func TestTextRefusesInvisibleAndDirectionCharacters(t *testing.T) {
	for _, r := range []rune{
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, // embeddings and overrides
		0x2066, 0x2067, 0x2068, 0x2069, // isolates
		0x200e, 0x200f, 0x061c, // direction marks
		0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, // zero-width space, non-joiner, joiner, word joiner, BOM
		0x2061, 0x2064, 0x206a, 0x206f, 0x180e, 0xfff9, // other format characters
		0x034f, 0x115f, 0x3164, 0xffa0, 0x17b4, 0x180b, // fillers and selectors that show nothing
		0x2065, 0xfff0, 0xe0000, 0xe0001, 0xe0041, 0xe007f, 0xe0100, 0xe0fff, // reserved, tags, supplementary selectors
	} {
		want := fmt.Sprintf("caractère invisible ou de contrôle de direction interdit (U+%04X)", r)
		for _, multiLine := range []bool{false, true} {
			_, err := input.Text(errFamily, "headline", "Crue "+string(r)+"du Gardon", 1, 200, multiLine)
			if field, p := problem(t, err); field != "headline" || p != want {
				t.Errorf("U+%04X (multiLine %v): %s: %s, want headline: %s", r, multiLine, field, p, want)
			}
		}
		// Trimming does not take it away at either end: it is no space.
		if _, err := input.Text(errFamily, "title", string(r)+"Crue", 1, 200, false); err == nil {
			t.Errorf("U+%04X at the start accepted", r)
		}
		if _, err := input.Text(errFamily, "title", "Crue"+string(r), 1, 200, false); err == nil {
			t.Errorf("U+%04X at the end accepted", r)
		}
		if field, p := problem(t, input.ID(errFamily, "id", "i"+string(r)+"1", 16)); field != "id" || p != want {
			t.Errorf("ID with U+%04X: %s: %s, want id: %s", r, field, p, want)
		}
	}
}

// What French texts hold, as typed or pasted from a commune's plan, still passes:
// accents and ligatures, guillemets with their no-break spaces (U+00A0, and the
// narrow U+202F before « ; : ! ? »), dashes, the soft hyphen U+00AD of word
// processors, and emoji with their presentation selector.
func TestTextAcceptsWhatFrenchTextNeeds(t *testing.T) {
	for _, s := range []string{
		"Évacuation de l'école Jean-Jaurès : cœur de ville, Œuvre, ça, où, naïf",
		"«\u00a0Montez à l'étage\u00a0»\u202f! Ne prenez pas votre véhicule\u202f; restez à l'écoute\u202f?",
		"EXERCICE – Crue du Vidourle — cote 5,20 m",
		"Pré\u00adfec\u00adture du Gard",
		"⚠\ufe0f Alerte crue 🌊 🚒",
		"Rue de l'Hôpital, 30000 Nîmes ½ € ° №",
	} {
		if got, err := input.Text(errFamily, "description", s, 1, 400, true); err != nil || got != s {
			t.Errorf("Text(%q) = %q, %v", s, got, err)
		}
	}
	for _, r := range []rune{0x00ad, 0x00a0, 0x202f, 0xfe0f, 0x2019, 0x2013, 0x2028} {
		if input.Invisible(r) {
			t.Errorf("Invisible(U+%04X) = true", r)
		}
	}
}

func TestVisibleNamesTheFieldAndTheCharacter(t *testing.T) {
	if err := input.Visible(errFamily, "name", "Motopompe\u00a012 – Pré\u00adfecture ⚠\ufe0f"); err != nil {
		t.Errorf("Visible = %v", err)
	}
	want := "caractère invisible ou de contrôle de direction interdit (U+202E)"
	if field, p := problem(t, input.Visible(errFamily, "name", "Motopompe \u202e21")); field != "name" || p != want {
		t.Errorf("Visible: %s: %s, want name: %s", field, p, want)
	}
	if got := input.Visible(errFamily, "name", "a\u200bb").Error(); got != "thing: saisie invalide: name: caractère invisible ou de contrôle de direction interdit (U+200B)" {
		t.Errorf("Error() = %q", got)
	}
}
