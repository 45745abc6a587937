package alert

import "vigie/events/input"

// ValidatePoint refuses positions that are not on Earth: NaN, infinities,
// latitudes beyond ±90 and longitudes beyond ±180.
func ValidatePoint(p Point) error { return input.Point(ErrInvalidInput, "location", p.Lat, p.Lon) }

func latLon(p Point) (float64, float64) { return p.Lat, p.Lon }

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
	return input.Polygon(ErrInvalidInput, field, ring, MinPolygonPoints, MaxPolygonPoints, latLon)
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
// alert belongs to one commune. The rules are input.CommuneDomain's, which
// must accept the same communes as policies/territory.
func ValidateDomain(domain string) error { return input.CommuneDomain(ErrInvalidInput, domain) }
