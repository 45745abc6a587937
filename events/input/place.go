package input

import (
	"math"
	"strconv"
	"strings"

	"vigie/events/territory"
)

// Point refuses a WGS 84 position that is not on Earth: NaN, infinities,
// latitudes beyond ±90 and longitudes beyond ±180.
func Point(family error, field string, lat, lon float64) error {
	switch {
	case math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90:
		return Invalid(family, field, "la latitude est un nombre de -90 à 90")
	case math.IsNaN(lon) || math.IsInf(lon, 0) || lon < -180 || lon > 180:
		return Invalid(family, field, "la longitude est un nombre de -180 à 180")
	}
	return nil
}

// Polygon checks a ring, closed or not, of least..most points, each on Earth;
// latLon reads a domain's point. Whether no polygon at all is allowed is the
// caller's to say: an empty ring is refused here.
func Polygon[P any](family error, field string, ring []P, least, most int, latLon func(P) (lat, lon float64)) error {
	if len(ring) < least || len(ring) > most {
		return Invalid(family, field, "un polygone a de "+strconv.Itoa(least)+" à "+strconv.Itoa(most)+" points")
	}
	for n, p := range ring {
		lat, lon := latLon(p)
		if err := Point(family, field+"["+strconv.Itoa(n)+"]", lat, lon); err != nil {
			return err
		}
	}
	return nil
}

// CommuneDomain accepts the domain of a commune in canonical form,
// "dep:30/com:30189", by the territory package's grammar (the one Vigie has): the
// département is a metropolitan code (01 to 95, 2A, 2B) or an overseas one (971 to
// 978, 984 to 989); the INSEE code of the commune starts with it and ends in digits,
// five characters in all.
func CommuneDomain(family error, domain string) error {
	if territory.IsCommune(domain) {
		return nil
	}
	dep := territory.DepartementOf(domain)
	if _, err := territory.Parse(dep); err == nil && strings.HasPrefix(domain, dep+"/com:") {
		return Invalid(family, "domain", "le code INSEE de la commune a 5 caractères et commence par le code de son département")
	}
	return Invalid(family, "domain", "attendu le territoire d'une commune, comme dep:30/com:30189")
}

// ExerciseCommune reports whether domain is a commune kept for exercises: by
// the drills' convention com:<département>999 (dep:30/com:30999), which is no
// INSEE code, so nobody lives there who did not register for exercises.
func ExerciseCommune(domain string) bool {
	if CommuneDomain(nil, domain) != nil {
		return false
	}
	return strings.HasSuffix(domain, "999")
}
