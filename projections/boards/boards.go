// Package boards lists every read model of Vigie, so that the projector, the rebuild
// command and the all-in-one `vigie serve` run the same set.
package boards

import (
	"vigie/projections"
	"vigie/projections/alertboard"
	"vigie/projections/incidentboard"
	"vigie/projections/prefecture"
	"vigie/projections/resourceboard"
	"vigie/projections/timeline"
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
	pf, err := prefecture.New()
	if err != nil {
		return nil, err
	}
	tl, err := timeline.New()
	if err != nil {
		return nil, err
	}
	ab, err := alertboard.New()
	if err != nil {
		return nil, err
	}
	return []projections.Projection{ib, rb, pf, tl, ab}, nil
}
