package alert

import (
	"math"
	"strconv"
	"strings"
)

// Validate refuses positions that are not on Earth: NaN, infinities,
// latitudes beyond ±90 and longitudes beyond ±180.
func (p Point) Validate() error { return point("location", p) }

func point(field string, p Point) error {
	switch {
	case math.IsNaN(p.Lat) || math.IsInf(p.Lat, 0) || p.Lat < -90 || p.Lat > 90:
		return invalid(field, "latitude must be a number from -90 to 90")
	case math.IsNaN(p.Lon) || math.IsInf(p.Lon, 0) || p.Lon < -180 || p.Lon > 180:
		return invalid(field, "longitude must be a number from -180 to 180")
	}
	return nil
}

// An alert's area is a polygon, its ring closed or not, or nothing (the whole
// commune). The bound keeps every alert stream loadable in one read and the
// CAP document small.
const (
	MinPolygonPoints = 3
	MaxPolygonPoints = 1000
)

func polygon(field string, ring []Point) error {
	if len(ring) == 0 {
		return nil
	}
	if len(ring) < MinPolygonPoints || len(ring) > MaxPolygonPoints {
		return invalid(field, "a polygon has "+strconv.Itoa(MinPolygonPoints)+" to "+strconv.Itoa(MaxPolygonPoints)+" points")
	}
	for n, p := range ring {
		if err := point(field+"["+strconv.Itoa(n)+"]", p); err != nil {
			return err
		}
	}
	return nil
}

// Covers reports whether p lies inside the polygon ring, by ray casting
// (latitude and longitude taken as plane coordinates, which is exact enough at
// a commune's scale). An empty polygon is the whole commune and covers every
// point; a point exactly on an edge may fall either side.
func Covers(ring []Point, p Point) bool {
	if len(ring) == 0 {
		return true
	}
	inside := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) &&
			p.Lon < (b.Lon-a.Lon)*(p.Lat-a.Lat)/(b.Lat-a.Lat)+a.Lon {
			inside = !inside
		}
	}
	return inside
}

// ValidateDomain accepts the domain of a commune, "dep:30/com:30189": an
// alert belongs to one commune. The département is a metropolitan code (01 to
// 95, 2A, 2B) or an overseas one (971 to 978, 984 to 989); the INSEE code of
// the commune starts with it and ends in digits, five characters in all. These
// are the rules of policies/territory and incident.ValidateDomain, which a
// domain package may not import; all must accept the same communes.
func ValidateDomain(domain string) error {
	rest, ok := strings.CutPrefix(domain, "dep:")
	if !ok {
		return invalid("domain", "must be a commune's domain, like dep:30/com:30189")
	}
	dep, com, ok := strings.Cut(rest, "/com:")
	if !ok || !departement(dep) {
		return invalid("domain", "must be a commune's domain, like dep:30/com:30189")
	}
	if len(com) != 5 || !strings.HasPrefix(com, dep) || !digits(com[len(dep):]) {
		return invalid("domain", "the commune's INSEE code must be 5 characters starting with its département's code")
	}
	return nil
}

func departement(code string) bool {
	switch len(code) {
	case 2:
		return code == "2A" || code == "2B" || digits(code) && code >= "01" && code <= "95" && code != "20"
	case 3:
		return digits(code) && (code >= "971" && code <= "978" || code >= "984" && code <= "989")
	}
	return false
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
