package alert

import "testing"

// The Écusson, Nîmes' historic centre inside its ring of boulevards (Gambetta,
// Amiral Courbet, Libération, Victor Hugo), roughly traced.
func ecusson() []Point {
	return []Point{
		{Lat: 43.8418, Lon: 4.3560}, // Gambetta × Victor Hugo, square Antonin
		{Lat: 43.8402, Lon: 4.3650}, // Gambetta × Amiral Courbet
		{Lat: 43.8348, Lon: 4.3640}, // Amiral Courbet × esplanade
		{Lat: 43.8344, Lon: 4.3585}, // the Arènes
		{Lat: 43.8372, Lon: 4.3548}, // Victor Hugo
	}
}

func TestCoversTheHistoricCentreOfNimes(t *testing.T) {
	for name, p := range map[string]Point{
		"place de l'Horloge": {Lat: 43.8377, Lon: 4.3589},
		"cathedral":          {Lat: 43.8386, Lon: 4.3607},
		"place du Marché":    {Lat: 43.8375, Lon: 4.3600},
	} {
		if !Covers(ecusson(), p) {
			t.Errorf("%s %v not covered", name, p)
		}
	}
	for name, p := range map[string]Point{
		"Jardins de la Fontaine": {Lat: 43.8404, Lon: 4.3470},
		"railway station":        {Lat: 43.8325, Lon: 4.3660},
		"Sommières":              {Lat: 43.7843, Lon: 4.0897},
		"south of the Arènes":    {Lat: 43.8330, Lon: 4.3590},
	} {
		if Covers(ecusson(), p) {
			t.Errorf("%s %v covered", name, p)
		}
	}
}

func TestCoversAConcaveArea(t *testing.T) {
	// Both banks of a river flowing south, with the higher ground between them
	// left out: a U open to the north.
	banks := []Point{{Lat: 43.90, Lon: 4.30}, {Lat: 43.80, Lon: 4.30}, {Lat: 43.80, Lon: 4.40}, {Lat: 43.90, Lon: 4.40}, {Lat: 43.90, Lon: 4.37}, {Lat: 43.83, Lon: 4.37}, {Lat: 43.83, Lon: 4.33}, {Lat: 43.90, Lon: 4.33}}
	for _, p := range []Point{{Lat: 43.85, Lon: 4.31}, {Lat: 43.85, Lon: 4.39}, {Lat: 43.81, Lon: 4.35}} {
		if !Covers(banks, p) {
			t.Errorf("%v on a bank not covered", p)
		}
	}
	for _, p := range []Point{{Lat: 43.85, Lon: 4.35}, {Lat: 43.95, Lon: 4.35}, {Lat: 43.85, Lon: 4.29}} {
		if Covers(banks, p) {
			t.Errorf("%v off the banks covered", p)
		}
	}
	closed := append(banks, banks[0])
	if !Covers(closed, Point{Lat: 43.85, Lon: 4.31}) || Covers(closed, Point{Lat: 43.85, Lon: 4.35}) {
		t.Error("a closed ring does not cover the same points")
	}
}

func TestAnEmptyAreaIsTheWholeCommune(t *testing.T) {
	if !Covers(nil, Point{Lat: 43.8384, Lon: 4.3561}) {
		t.Error("an alert for the whole commune does not cover a resident")
	}
}
