package alert

import "testing"

// The Écusson, Nîmes' historic centre inside its ring of boulevards (Gambetta,
// Amiral Courbet, Libération, Victor Hugo), roughly traced.
func ecusson() []Point {
	return []Point{
		{43.8418, 4.3560}, // Gambetta × Victor Hugo, square Antonin
		{43.8402, 4.3650}, // Gambetta × Amiral Courbet
		{43.8348, 4.3640}, // Amiral Courbet × esplanade
		{43.8344, 4.3585}, // the Arènes
		{43.8372, 4.3548}, // Victor Hugo
	}
}

func TestCoversTheHistoricCentreOfNimes(t *testing.T) {
	for name, p := range map[string]Point{
		"place de l'Horloge": {43.8377, 4.3589},
		"cathedral":          {43.8386, 4.3607},
		"place du Marché":    {43.8375, 4.3600},
	} {
		if !Covers(ecusson(), p) {
			t.Errorf("%s %v not covered", name, p)
		}
	}
	for name, p := range map[string]Point{
		"Jardins de la Fontaine": {43.8404, 4.3470},
		"railway station":        {43.8325, 4.3660},
		"Sommières":              {43.7843, 4.0897},
		"south of the Arènes":    {43.8330, 4.3590},
	} {
		if Covers(ecusson(), p) {
			t.Errorf("%s %v covered", name, p)
		}
	}
}

func TestCoversAConcaveArea(t *testing.T) {
	// Both banks of a river flowing south, with the higher ground between them
	// left out: a U open to the north.
	banks := []Point{{43.90, 4.30}, {43.80, 4.30}, {43.80, 4.40}, {43.90, 4.40}, {43.90, 4.37}, {43.83, 4.37}, {43.83, 4.33}, {43.90, 4.33}}
	for _, p := range []Point{{43.85, 4.31}, {43.85, 4.39}, {43.81, 4.35}} {
		if !Covers(banks, p) {
			t.Errorf("%v on a bank not covered", p)
		}
	}
	for _, p := range []Point{{43.85, 4.35}, {43.95, 4.35}, {43.85, 4.29}} {
		if Covers(banks, p) {
			t.Errorf("%v off the banks covered", p)
		}
	}
	closed := append(banks, banks[0])
	if !Covers(closed, Point{43.85, 4.31}) || Covers(closed, Point{43.85, 4.35}) {
		t.Error("a closed ring does not cover the same points")
	}
}

func TestAnEmptyAreaIsTheWholeCommune(t *testing.T) {
	if !Covers(nil, Point{43.8384, 4.3561}) {
		t.Error("an alert for the whole commune does not cover a resident")
	}
}
