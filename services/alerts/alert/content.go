package alert

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultLanguage is the language of an alert that names none.
const DefaultLanguage = "fr-FR"

// ExercisePrefix starts every text an exercise sends, so no resident takes a
// drill for a real emergency.
const ExercisePrefix = "EXERCICE – "

// ExerciseText returns s trimmed, with ExercisePrefix in front unless it
// already starts with "EXERCICE" (in any letter case). An empty text stays
// empty: there is nothing to mark.
func ExerciseText(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) >= len("EXERCICE") && strings.EqualFold(s[:len("EXERCICE")], "EXERCICE") {
		return s
	}
	return ExercisePrefix + s
}

// ValidLanguage reports whether s has the shape of an RFC 3066 language tag:
// a primary tag of 1 to 8 letters, then subtags of 1 to 8 letters or digits,
// joined by hyphens ("fr", "fr-FR", "oc-x-gascon").
func ValidLanguage(s string) bool {
	if s == "" {
		return false
	}
	for n, tag := range strings.Split(s, "-") {
		if len(tag) < 1 || len(tag) > 8 {
			return false
		}
		for _, c := range []byte(tag) {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (n == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// content checks a content and returns it as the events carry it: texts
// trimmed (and marked for an exercise), the default language filled in, and
// nothing shared with the command.
func content(c Content, exercise bool, at time.Time) (Content, error) {
	mark := func(s string) string { return s }
	if exercise {
		mark = ExerciseText
	}
	var err error
	out := c
	fields := []struct {
		name        string
		value       *string
		least, most int
		multiLine   bool
		marked      bool
	}{
		{"event", &out.Event, 1, MaxEventLen, false, false},
		{"headline", &out.Headline, 1, MaxHeadlineLen, false, true},
		{"description", &out.Description, 1, MaxDescriptionLen, true, true},
		{"instruction", &out.Instruction, 0, MaxInstructionLen, true, true},
		{"areaDesc", &out.AreaDesc, 1, MaxAreaDescLen, false, false},
	}
	for _, f := range fields {
		v := *f.value
		if f.marked {
			v = mark(v)
		}
		if *f.value, err = text(f.name, v, f.least, f.most, f.multiLine); err != nil {
			return Content{}, err
		}
	}
	switch {
	case !c.Severity.Valid():
		return Content{}, invalid("severity", "gravité inconnue "+strconv.Quote(string(c.Severity)))
	case !c.Urgency.Valid():
		return Content{}, invalid("urgency", "urgence inconnue "+strconv.Quote(string(c.Urgency)))
	case !c.Certainty.Valid():
		return Content{}, invalid("certainty", "certitude inconnue "+strconv.Quote(string(c.Certainty)))
	case !c.Category.Valid():
		return Content{}, invalid("category", "catégorie inconnue "+strconv.Quote(string(c.Category)))
	}
	if err := polygon("polygon", c.Polygon); err != nil {
		return Content{}, err
	}
	if out.Language == "" {
		out.Language = DefaultLanguage
	} else if !ValidLanguage(out.Language) {
		return Content{}, invalid("language", "attendu une langue comme fr-FR")
	}
	if err := dates(c.Effective, c.Expires, at); err != nil {
		return Content{}, err
	}
	return CloneContent(out), nil
}

// Earliest is the earliest date an alert's content may name: anything before
// is a typing slip (a year 0000 also makes the CAP document invalid).
var Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxAhead bounds how far ahead an alert's dates may be: an alert is about a
// danger now, not next year.
const MaxAhead = 366 * 24 * time.Hour

// dates checks the effective and expiry dates: after Earliest, at most
// MaxAhead from now, the expiry in the future and after the effective date.
func dates(effective, expires *time.Time, at time.Time) error {
	for _, d := range []struct {
		field string
		t     *time.Time
	}{{"effective", effective}, {"expires", expires}} {
		switch {
		case d.t == nil:
		case !d.t.After(Earliest):
			return invalid(d.field, "la date doit être postérieure au 1er janvier 2000")
		case d.t.After(at.Add(MaxAhead)):
			return invalid(d.field, "la date doit être dans moins d'un an")
		}
	}
	if expires != nil {
		switch {
		case !expires.After(at):
			return invalid("expires", "l'expiration doit être dans le futur")
		case effective != nil && !expires.After(*effective):
			return invalid("expires", "l'expiration doit suivre la date d'effet")
		}
	}
	return nil
}

// channels checks an alert's channels: one to all of them, each once, each
// offered (nil offers all).
func channels(cs, offered []Channel) ([]Channel, error) {
	if len(cs) == 0 {
		return nil, invalid("channels", "au moins un canal")
	}
	for n, c := range cs {
		if !c.Valid() {
			return nil, invalid("channels", fmt.Sprintf("canal inconnu %q", c))
		}
		if slices.Contains(cs[:n], c) {
			return nil, invalid("channels", fmt.Sprintf("%s donné deux fois", c))
		}
		if offered != nil && !slices.Contains(offered, c) {
			names := make([]string, len(offered))
			for i, o := range offered {
				names[i] = string(o)
			}
			return nil, invalid("channels", fmt.Sprintf("aucun fournisseur n'est configuré pour %s ; canaux disponibles : %s", c, strings.Join(names, ", ")))
		}
	}
	return slices.Clone(cs), nil
}
