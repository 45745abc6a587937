package incident

import "vigie/events/input"

// validatePoint refuses positions that are not on Earth: NaN, infinities,
// latitudes beyond ±90 and longitudes beyond ±180.
func validatePoint(p Point) error { return input.Point(ErrInvalidInput, "location", p.Lat, p.Lon) }

func latLon(p Point) (float64, float64) { return p.Lat, p.Lon }

// An affected zone is a polygon: its ring, closed or not (the first point may
// or may not be repeated at the end), or nothing. The bound keeps every
// incident stream loadable in one read and every board light.
const (
	MinZonePoints = 3
	MaxZonePoints = 1000
)

func zone(z []Point) error {
	return input.Polygon(ErrInvalidInput, "zone", z, MinZonePoints, MaxZonePoints, latLon)
}

// ValidateDomain accepts the domain of a commune, "dep:30/com:30189": an
// incident belongs to one commune. The rules are input.CommuneDomain's, which
// must accept the same communes as policies/territory.
func ValidateDomain(domain string) error { return input.CommuneDomain(ErrInvalidInput, domain) }
