package territory_test

import (
	"testing"

	"vigie/events/input"
	"vigie/events/territory"
)

// FuzzParse: domains arrive from outside in every GraphQL argument, every grant and
// every token. Whatever the string, Parse never panics; what it accepts has one
// canonical form that reads back the same; coverage follows the parse; and
// events/input, which the domain packages use because they may not import this
// package, accepts exactly the communes this package accepts (its doc says the two
// must agree).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"dep:30", "dep:30/*", "dep:30/com:30189", "dep:2A/com:2A004", "dep:2B", "dep:971/com:97101",
		"dep:988/com:98818", "dep:30/com:13047", "dep:20", "dep:00", "dep:96", "dep:979/com:97901",
		"dep:30/", "dep:30/com:", "dep:30//com:30189", "dep:30/com:30189/x", "dep:30/com:3018\u00e9",
		"DEP:30", " dep:30", "dep:30/com:30999", "dep:30/com:30000", "dep:2a/com:2a004", "",
	} {
		f.Add(s, "dep:30/com:30189")
	}
	f.Fuzz(func(t *testing.T, s, other string) {
		d, err := territory.Parse(s)
		communeErr := input.CommuneDomain(nil, s)
		if err != nil {
			if territory.Valid(s) == nil {
				t.Fatalf("Valid(%q) accepts what Parse refuses: %v", s, err)
			}
			if _, cerr := territory.Canonical(s); cerr == nil {
				t.Fatalf("Canonical(%q) accepts what Parse refuses", s)
			}
			if territory.Covers(s, other) || territory.Covers(other, s) {
				t.Fatalf("%q, which does not parse, covers or is covered by %q", s, other)
			}
			if communeErr == nil {
				t.Fatalf("input.CommuneDomain accepts %q, which territory refuses: %v", s, err)
			}
			return
		}
		canonical := d.String()
		if back, err := territory.Parse(canonical); err != nil || back != d {
			t.Fatalf("%q parses as %+v, whose form %q reads back as %+v, %v", s, d, canonical, back, err)
		}
		if c, err := territory.Canonical(s); err != nil || c != canonical {
			t.Fatalf("Canonical(%q) = %q, %v; want %q", s, c, err, canonical)
		}
		if s != canonical && s != canonical+territory.Wildcard {
			t.Fatalf("%q is accepted as %q: a domain has one spelling (and the département's /*)", s, canonical)
		}
		if !territory.Covers(s, s) || !territory.Covers(s, canonical) || !territory.Covers("dep:"+d.Departement, s) {
			t.Fatalf("%q does not cover itself, or its département does not cover it", s)
		}
		// Commune domains are exactly those of input.CommuneDomain.
		if commune := !d.IsDepartement(); commune != (communeErr == nil) {
			t.Fatalf("%q: a commune for territory: %v; input.CommuneDomain: %v", s, commune, communeErr)
		}
		if o, err := territory.Parse(other); err == nil {
			want := o.Departement == d.Departement && (d.IsDepartement() || d == o)
			if got := territory.Covers(s, other); got != want {
				t.Fatalf("Covers(%q, %q) = %v, want %v", s, other, got, want)
			}
		}
	})
}
