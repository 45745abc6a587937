package labels

import "vigie/events/territory"

// departements are the names of the départements Vigie serves, with the
// preposition French puts before them (« département du Gard »): the communes'
// names ship for these (communes.gen.go).
var departements = map[string]struct{ name, of string }{
	"30": {"Gard", "du Gard"},
}

// Commune is the name of a commune by INSEE code, « commune 30999 » when the
// outlines that ship do not name it.
func Commune(code string) string {
	if n, ok := communes[code]; ok {
		return n
	}
	return "commune " + code
}

// Departement is a département as a heading names it: « Gard (30) », or
// « département 13 » for one whose name Vigie does not ship.
func Departement(code string) string {
	if d, ok := departements[code]; ok {
		return d.name + " (" + code + ")"
	}
	return "département " + code
}

// Place is the French name of a domain, as a person reads it: « Nîmes » for
// dep:30/com:30189, « Gard (30) » for dep:30 (Departement), « commune 30999 » for
// a commune whose name does not ship. A string that is no domain is returned
// as it is, rather than hidden.
func Place(domain string) string {
	d, err := territory.Parse(domain)
	if err != nil {
		return domain
	}
	if d.IsDepartement() {
		return Departement(d.Departement)
	}
	return Commune(d.Commune)
}

// PlaceIn is a domain within a sentence, after « de » or « du »: « de Nîmes »,
// « du département du Gard », « de la commune 30999 », « du département 13 ».
func PlaceIn(domain string) string {
	d, err := territory.Parse(domain)
	switch {
	case err != nil:
		return "de " + domain
	case d.IsDepartement():
		if n, ok := departements[d.Departement]; ok {
			return "du département " + n.of
		}
		return "du département " + d.Departement
	}
	if n, ok := communes[d.Commune]; ok {
		return Elide("de", n)
	}
	return "de la commune " + d.Commune
}

// Elide writes a preposition before a word as French does: « d'Alès »,
// « de Nîmes ».
func Elide(prep, word string) string {
	if prep == "de" && word != "" {
		switch word[0] {
		case 'A', 'E', 'I', 'O', 'U', 'Y', 'a', 'e', 'i', 'o', 'u', 'y':
			return "d'" + word
		}
		if len(word) > 1 && (word[:2] == "É" || word[:2] == "é") {
			return "d'" + word
		}
	}
	return prep + " " + word
}
