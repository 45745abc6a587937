package input

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
)

// Error says which field of a command is wrong and why. It is its Family
// (a domain's ErrInvalidInput, which wraps events.ErrInvalidInput) for
// errors.Is; errors.As gives the field. Domain packages name it InputError
// (an alias: errors.As finds any domain's, errors.Is tells the families apart)
// and build it with Invalid, so that it carries their family.
type Error struct {
	Field   string
	Problem string
	Family  error
}

func (e *Error) Error() string {
	return e.Unwrap().Error() + ": " + e.Field + ": " + e.Problem
}

// Unwrap returns the family; an Error built without one is still invalid
// input, so the gateway never answers it as an internal error.
func (e *Error) Unwrap() error {
	if e.Family == nil {
		return events.ErrInvalidInput
	}
	return e.Family
}

// Invalid returns an *Error of family for field.
func Invalid(family error, field, problem string) error {
	return &Error{Field: field, Problem: problem, Family: family}
}

// Text trims s and checks it has least..most runes of valid UTF-8 without
// control characters nor invisible ones (see Invisible); multiLine texts may
// hold newlines and tabs.
func Text(family error, field, s string, least, most int, multiLine bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", Invalid(family, field, "texte illisible (UTF-8 invalide)")
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < least || n > most {
		if least == 0 {
			return "", Invalid(family, field, "plus de "+strconv.Itoa(most)+" caractères")
		}
		return "", Invalid(family, field, "de "+strconv.Itoa(least)+" à "+strconv.Itoa(most)+" caractères attendus")
	}
	for _, r := range s {
		if multiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "", Invalid(family, field, "caractère de contrôle interdit")
		}
		if Invisible(r) {
			return "", Invalid(family, field, invisibleProblem(r))
		}
	}
	return s, nil
}

// Invisible reports whether r is a character that is not seen but changes how
// the characters around it are seen: the format characters of Unicode
// (category Cf: the bidirectional embeddings, overrides and isolates
// U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F and U+061C, the
// zero-width space, joiners and word joiner U+200B–U+200D and U+2060, the
// byte order mark U+FEFF, the tag characters…) and the other code points
// Unicode declares default-ignorable (Hangul fillers, the combining grapheme
// joiner, the Mongolian and supplementary variation selectors, the reserved
// ranges). Texts are shown to others (the boards, the main courante) and
// published (CAP documents, SMS, e-mails): with these, "Route fermée" followed
// by U+202E and "erèivir al ed tnop" reads "Route fermée pont de la rivière"
// on screen though it was written otherwise, two titles that differ by a
// zero-width space look the same, and a search or a reader never sees what
// the text holds.
//
// Allowed: U+00AD, the soft hyphen, which French word processors insert where
// a word may break (LibreOffice's Ctrl+-, Word's optional hyphen) and so
// arrives in texts pasted from a commune's plan; it reorders nothing and, at
// most, shows as a hyphen at a line's end. Also allowed: the variation
// selectors U+FE00–U+FE0F (the warning sign U+26A0 U+FE0F of alerts), which
// change a glyph's look, not the text's order or meaning. Refused with the
// rest: the zero-width joiner U+200D, though emoji sequences use it (a
// firefighter is U+1F9D1 U+200D U+1F692): each emoji of such a sequence is
// accepted alone, and French needs no joiner.
func Invisible(r rune) bool {
	return r != '\u00ad' && (unicode.Is(unicode.Cf, r) || unicode.Is(ignorable, r))
}

// Visible refuses s when it holds an invisible character (see Invisible), with
// an *Error of family naming field and the character. It is for the packages
// whose texts have rules of their own (a resource's name, a reinforcement's
// reason): Text and ID check it already.
func Visible(family error, field, s string) error {
	for _, r := range s {
		if Invisible(r) {
			return Invalid(family, field, invisibleProblem(r))
		}
	}
	return nil
}

// ignorable is what Unicode's Default_Ignorable_Code_Point holds beyond
// category Cf (DerivedCoreProperties.txt), except the emoji variation selectors
// U+FE00–U+FE0F: fillers and selectors that show nothing, and code points
// reserved to be ignorable once assigned, so that a future format character
// is refused before this package knows its name.
var ignorable = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034f, Hi: 0x034f, Stride: 1}, // combining grapheme joiner
		{Lo: 0x115f, Hi: 0x1160, Stride: 1}, // Hangul choseong and jungseong fillers
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1}, // Khmer inherent vowels
		{Lo: 0x180b, Hi: 0x180f, Stride: 1}, // Mongolian free variation selectors and vowel separator
		{Lo: 0x2065, Hi: 0x2065, Stride: 1}, // reserved among the invisible operators
		{Lo: 0x3164, Hi: 0x3164, Stride: 1}, // Hangul filler
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1}, // halfwidth Hangul filler
		{Lo: 0xfff0, Hi: 0xfff8, Stride: 1}, // reserved before the interlinear annotations
	},
	R32: []unicode.Range32{
		{Lo: 0xe0000, Hi: 0xe0fff, Stride: 1}, // tags, variation selectors supplement, reserved
	},
}

// invisibleProblem says, in French as the dashboard shows it, why r is refused.
func invisibleProblem(r rune) string {
	return fmt.Sprintf("caractère invisible ou de contrôle de direction interdit (U+%04X)", r)
}

// ID checks an id of at most max bytes. An id names a stream or an entry for
// ever, so it is taken as given, never trimmed; refusing spaces and control
// characters makes it stricter than events.ValidateStreamID, so
// "<category>-<id>" is always a valid stream name. Invisible characters are
// refused as in Text.
func ID(family error, field, s string, max int) error {
	switch {
	case s == "":
		return Invalid(family, field, "vide")
	case len(s) > max:
		return Invalid(family, field, "plus de "+strconv.Itoa(max)+" octets")
	case !utf8.ValidString(s):
		return Invalid(family, field, "texte illisible (UTF-8 invalide)")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return Invalid(family, field, "espace ou caractère de contrôle interdit")
		}
		// Ids are shown too (the boards, CAP addresses): two ids that look
		// alike must be the same id.
		if Invisible(r) {
			return Invalid(family, field, invisibleProblem(r))
		}
	}
	return nil
}

// Actor checks what the runtime passes with every command, so that a
// programming error there never becomes an event: a subject, one of
// events.Roles or of extraRoles (a domain's own, such as a dispatcher's), and
// a time.
func Actor(family error, by events.Actor, at time.Time, extraRoles ...string) error {
	switch {
	case by.Subject == "":
		return Invalid(family, "by", "personne sans identifiant")
	case !slices.Contains(events.Roles, by.Role) && !slices.Contains(extraRoles, by.Role):
		return Invalid(family, "by", "rôle inconnu "+strconv.Quote(by.Role))
	case at.IsZero():
		return Invalid(family, "at", "heure manquante")
	}
	return nil
}
