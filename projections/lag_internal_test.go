package projections

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"vigie/events"
	"vigie/events/store"
	"vigie/events/storetest"
)

type prefixOnly struct{ prefixes []string }

func (prefixOnly) Name() string                                 { return "lagtest" }
func (p prefixOnly) StreamPrefixes() []string                   { return p.prefixes }
func (prefixOnly) Registry() *events.Registry                   { return events.NewRegistry() }
func (prefixOnly) Apply(context.Context, *Model, []Event) error { return nil }

func TestLagCountsOnlyTheProjectionsEventsPastTheCheckpoint(t *testing.T) {
	c, _ := storetest.Embedded(t)
	ctx := context.Background()
	var positions []store.Position
	for i := range 30 {
		stream := fmt.Sprintf("incident-%d", i%3)
		if i%2 == 1 {
			stream = fmt.Sprintf("resource-%d", i%3) // not the projection's
		}
		res, err := c.Append(ctx, stream, store.Any(), store.EventData{ID: uuid.New(), Type: "Happened", Data: []byte(`{}`), Metadata: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, res.Position)
	}
	p := &Projector{Store: c, Projection: prefixOnly{prefixes: []string{"incident-"}}}
	for _, tc := range []struct {
		checkpoint store.Position
		want       int64
	}{
		{store.Position{}, 15}, // nothing applied: every incident event
		{positions[9], 10},     // events 10..29: the even ones
		{positions[29], 0},     // caught up
	} {
		p.measureLag(ctx, tc.checkpoint)
		if got := p.Status().Behind; got != tc.want {
			t.Errorf("behind from %v = %d, want %d", tc.checkpoint, got, tc.want)
		}
	}
}
