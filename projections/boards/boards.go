// Package boards lists every read model of Vigie, so that the projector, the rebuild
// command and the all-in-one `vigie serve` run the same set.
package boards

import (
	"vigie/projections"
	"vigie/projections/incidentboard"
	"vigie/projections/resourceboard"
)

// All returns a fresh instance of every projection.
func All() ([]projections.Projection, error) {
	ib, err := incidentboard.New()
	if err != nil {
		return nil, err
	}
	rb, err := resourceboard.New()
	if err != nil {
		return nil, err
	}
	return []projections.Projection{ib, rb}, nil
}
