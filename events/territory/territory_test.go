package territory

import (
	"errors"
	"testing"
)

func TestParseAcceptsDepartementsAndTheirCommunes(t *testing.T) {
	for in, want := range map[string]string{
		"dep:30":            "dep:30",
		"dep:30/*":          "dep:30",
		"dep:30/com:30189":  "dep:30/com:30189",
		"dep:2A":            "dep:2A",
		"dep:2A/com:2A004":  "dep:2A/com:2A004",
		"dep:13/com:13047":  "dep:13/com:13047",
		"dep:971/com:97101": "dep:971/com:97101",
		"dep:01":            "dep:01",
		"dep:95/*":          "dep:95",
	} {
		got, err := Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseRefusesWhatIsNotADomain(t *testing.T) {
	for _, in := range []string{
		"", "30", "dep:", "dep:3", "dep:300", "dep:00", "dep:20", "dep:96", "dep:97",
		"dep:2a", "DEP:30", "dep: 30", "dep:30 ", " dep:30", "dep:30/", "dep:30//com:30189",
		"dep:30/com:", "dep:30/com:3018", "dep:30/com:301890", "dep:30/com:13047",
		"dep:30/com:30189/", "dep:30/com:30189/*", "dep:30/*/com:30189", "dep:30/**",
		"dep:30/com:3018a", "dep:30/commune:30189", "com:30189", "dep:30\x00",
		"dep:2A/com:2B004", "dep:971/com:97201", "dep:30/com:30189\n",
	} {
		if err := Valid(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Valid(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		grant, domain string
		want          bool
	}{
		{"dep:30", "dep:30", true},
		{"dep:30", "dep:30/*", true},
		{"dep:30/*", "dep:30", true},
		{"dep:30", "dep:30/com:30189", true},
		{"dep:30/*", "dep:30/com:30007", true},
		{"dep:30/com:30189", "dep:30/com:30189", true},
		{"dep:30/com:30189", "dep:30/com:30007", false},
		{"dep:30/com:30189", "dep:30", false},
		{"dep:30/com:30189", "dep:30/*", false},
		{"dep:30", "dep:13", false},
		{"dep:30", "dep:13/com:13047", false},
		// The prefix traps: string prefixes are not territorial inclusion.
		{"dep:30", "dep:300/com:30012", false},
		{"dep:30", "dep:300", false},
		{"dep:3", "dep:30", false},
		{"dep:30/com:3018", "dep:30/com:30189", false},
		{"dep:97", "dep:971/com:97101", false},
		{"dep:2A", "dep:2B/com:2B033", false},
		// Nothing invalid covers or is covered.
		{"", "dep:30", false},
		{"dep:30", "", false},
		{"*", "dep:30", false},
		{"dep:30", "dep:30/com:13047", false},
	}
	for _, c := range cases {
		if got := Covers(c.grant, c.domain); got != c.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.grant, c.domain, got, c.want)
		}
	}
}
