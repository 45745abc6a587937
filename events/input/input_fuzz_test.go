package input_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"vigie/events"
	"vigie/events/input"
)

// FuzzText: every text a command carries (titles, headlines, log entries, reasons)
// goes through input.Text. Whatever the string and bounds, it never panics, refuses
// with an *input.Error naming the field, and accepts exactly what its doc says: the
// trimmed string, valid UTF-8, least..most runes, no control character but the line
// breaks and tabs of a multi-line text, nothing invisible. What it returns it accepts
// again unchanged.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"Crue du Gardon", "  Crue du Gardon \n", "ligne 1\n\tligne 2\r\n", "", " ", "a\xffb", "a\x00b", "a\x85b",
		"Crue \u202edu Gardon", "Crue\u200b", "\ufeffCrue", "Pré\u00adfecture", "⚠\ufe0f Crue", "\u2066x\u2069",
		"«\u00a0Montez\u00a0»\u202f!", "\U000e0041", "\u3164", strings.Repeat("é", 30),
	} {
		f.Add(s, uint8(1), uint8(20), false)
		f.Add(s, uint8(0), uint8(200), true)
	}
	f.Fuzz(func(t *testing.T, s string, least, most uint8, multiLine bool) {
		lo, hi := int(least), int(most)
		got, err := input.Text(errFamily, "field", s, lo, hi, multiLine)
		want := textAccepts(s, lo, hi, multiLine)
		if err != nil {
			var ie *input.Error
			if !errors.As(err, &ie) || ie.Field != "field" || !errors.Is(err, errFamily) || !errors.Is(err, events.ErrInvalidInput) {
				t.Fatalf("refused with %v, not an *input.Error of the field and family", err)
			}
			if want {
				t.Fatalf("Text(%q, %d, %d, %v) refused: %v", s, lo, hi, multiLine, err)
			}
			return
		}
		if !want {
			t.Fatalf("Text(%q, %d, %d, %v) accepted %q", s, lo, hi, multiLine, got)
		}
		if got != strings.TrimSpace(s) {
			t.Fatalf("Text(%q) = %q, not the string trimmed", s, got)
		}
		if again, err := input.Text(errFamily, "field", got, lo, hi, multiLine); err != nil || again != got {
			t.Fatalf("Text(%q) = %q, %v: what it accepted it must accept again", got, again, err)
		}
		if err := input.Visible(errFamily, "field", got); err != nil {
			t.Fatalf("Text accepted %q, Visible refuses it: %v", got, err)
		}
	})
}

// textAccepts is Text's doc, written out: whether s is accepted.
func textAccepts(s string, least, most int, multiLine bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < least || n > most {
		return false
	}
	for _, r := range s {
		lineBreak := r == '\n' || r == '\r' || r == '\t'
		switch {
		case unicode.IsControl(r) && !(multiLine && lineBreak):
			return false
		case r == '\u00ad': // the soft hyphen: allowed
		case unicode.In(r, unicode.Cf):
			return false
		case r >= 0xe0000 && r <= 0xe0fff, r >= 0xfff0 && r <= 0xfff8, r == 0x034f, r == 0x115f, r == 0x1160, r == 0x3164,
			r == 0xffa0, r == 0x17b4, r == 0x17b5, r >= 0x180b && r <= 0x180f, r == 0x2065:
			return false // default-ignorable though not Cf
		}
	}
	return true
}

// FuzzID: ids name streams for ever. ID never panics; what it accepts is non-empty,
// within its bytes, valid UTF-8, without space, control or invisible character, and
// makes a valid stream name.
func FuzzID(f *testing.F) {
	for _, s := range []string{"i-1", "a:b/c", "é", "", " i", "i\u00a01", "i\u200b1", "i\u202e1", "\xff", "incident-" + strings.Repeat("x", 120)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := input.ID(errFamily, "id", s, 128)
		if err != nil {
			var ie *input.Error
			if !errors.As(err, &ie) || ie.Field != "id" || !errors.Is(err, errFamily) {
				t.Fatalf("refused with %v, not an *input.Error of the field and family", err)
			}
			return
		}
		if s == "" || len(s) > 128 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || input.Invisible(r)
		}) {
			t.Fatalf("ID accepted %q", s)
		}
		if err := events.ValidateStreamID("incident-" + s); err != nil {
			t.Fatalf("ID accepted %q, which makes no stream name: %v", s, err)
		}
	})
}

// FuzzCommuneDomain: the commune a command names. CommuneDomain never panics and
// accepts only "dep:<département>/com:<INSEE code>" as its doc spells it, checked
// here against the list of départements written out; ExerciseCommune agrees.
// (policies/territory's FuzzParse checks the two packages accept the same communes.)
func FuzzCommuneDomain(f *testing.F) {
	for _, s := range []string{
		"dep:30/com:30189", "dep:2A/com:2A004", "dep:971/com:97101", "dep:30/com:30999", "dep:30", "dep:30/*",
		"dep:20/com:20004", "dep:30/com:13047", "dep:30/com:30189\n", "dep:30/com:3018٩", "dep:2A/com:2B004", "",
	} {
		f.Add(s)
	}
	departements := map[string]bool{"2A": true, "2B": true}
	for n := 1; n <= 95; n++ {
		if n != 20 {
			departements[string(rune('0'+n/10))+string(rune('0'+n%10))] = true
		}
	}
	for _, n := range []string{"971", "972", "973", "974", "975", "976", "977", "978", "984", "985", "986", "987", "988", "989"} {
		departements[n] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := input.CommuneDomain(errFamily, s)
		exercise := input.ExerciseCommune(s)
		if err != nil {
			if field, _ := problem(t, err); field != "domain" {
				t.Fatalf("refused naming %q", field)
			}
			if exercise {
				t.Fatalf("ExerciseCommune(%q) for a domain CommuneDomain refuses", s)
			}
			return
		}
		dep, insee, ok := strings.Cut(strings.TrimPrefix(s, "dep:"), "/com:")
		if !strings.HasPrefix(s, "dep:") || !ok || !departements[dep] || len(insee) != 5 || !strings.HasPrefix(insee, dep) ||
			strings.Trim(insee[len(dep):], "0123456789") != "" {
			t.Fatalf("CommuneDomain accepted %q", s)
		}
		if exercise != strings.HasSuffix(insee, "999") {
			t.Fatalf("ExerciseCommune(%q) = %v", s, exercise)
		}
	})
}
