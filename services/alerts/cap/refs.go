package cap

import (
	"fmt"
	"strconv"
	"strings"
)

// Reference names an earlier message: CAP identifies a message by sender, identifier and
// sent together, since identifiers are only unique per sender.
type Reference struct {
	Sender     string
	Identifier string
	Sent       Time
}

// String is the reference's wire form "sender,identifier,sent".
func (r Reference) String() string {
	return r.Sender + "," + r.Identifier + "," + r.Sent.String()
}

// FormatReferences is the <references> value: "sender,identifier,sent" triples, space separated.
func FormatReferences(refs []Reference) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, " ")
}

// ParseReferences reads a <references> value. Each triple splits on its commas, which
// sender and identifier may not contain; sent must be a CAP time.
func ParseReferences(s string) ([]Reference, error) {
	var refs []Reference
	for _, f := range strings.Fields(s) {
		p := strings.Split(f, ",")
		if len(p) != 3 || p[0] == "" || p[1] == "" {
			return nil, fmt.Errorf("cap: reference %q is not sender,identifier,sent", f)
		}
		sent, err := ParseTime(p[2])
		if err != nil {
			return nil, fmt.Errorf("cap: reference %q: %w", f, err)
		}
		refs = append(refs, Reference{Sender: p[0], Identifier: p[1], Sent: sent})
	}
	return refs, nil
}

// Polygon is a CAP polygon "lat,lon lat,lon ..." (WGS 84, latitude first) of points given
// as {lat, lon}. CAP wants the ring closed, so the first point is repeated at the end when
// the caller did not; fewer than three distinct points is left for Validate to refuse.
func Polygon(points [][2]float64) string {
	if len(points) > 0 && points[0] != points[len(points)-1] {
		points = append(points[:len(points):len(points)], points[0])
	}
	parts := make([]string, len(points))
	for i, p := range points {
		parts[i] = formatCoord(p[0]) + "," + formatCoord(p[1])
	}
	return strings.Join(parts, " ")
}

// formatCoord writes the shortest decimal that reads back as the same float, never an exponent.
func formatCoord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
