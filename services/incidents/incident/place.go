package incident

import (
	"math"
	"strconv"
	"strings"
)

// Point is a WGS 84 position in decimal degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

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

// An affected zone is a polygon: its ring, closed or not (the first point may
// or may not be repeated at the end), or nothing. The bound keeps every
// incident stream loadable in one read and every board light.
const (
	MinZonePoints = 3
	MaxZonePoints = 1000
)

func zone(z []Point) error {
	if len(z) < MinZonePoints || len(z) > MaxZonePoints {
		return invalid("zone", "a polygon has "+strconv.Itoa(MinZonePoints)+" to "+strconv.Itoa(MaxZonePoints)+" points")
	}
	for n, p := range z {
		if err := point("zone["+strconv.Itoa(n)+"]", p); err != nil {
			return err
		}
	}
	return nil
}

// ValidateDomain accepts the domain of a commune, "dep:30/com:30189": an
// incident belongs to one commune. The département is a metropolitan code
// (01 to 95, 2A, 2B) or an overseas one (971 to 978, 984 to 989); the INSEE
// code of the commune starts with it and ends in digits, five characters in
// all. These are the rules of policies/territory, which a domain package may
// not import; the two must accept the same communes.
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
