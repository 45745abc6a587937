package timeline

import (
	"context"
	"fmt"

	"vigie/events/incident"
	"vigie/events/resource"
	"vigie/projections"
)

// names are the titles of incidents and the names of resources, by stream, that
// the summaries of a batch say: read before the batch, completed by its own
// reports and registrations. fresh are those the batch records.
type names struct {
	byStream map[string]string
	fresh    []string
}

func (n *names) of(stream string) string {
	if n == nil {
		return ""
	}
	return n.byStream[stream]
}

// needs are the streams whose names e's summary says: a resource's own, and the
// incident an event of another stream is about.
func needs(e projections.Event) []string {
	var out []string
	switch e.Event.(type) {
	case resource.ResourceEngaged, resource.ResourceReleased, resource.ResourceStatusChanged, resource.ShelterOccupancyChanged:
		out = append(out, e.StreamID)
	}
	if inc := about(e); inc != "" {
		out = append(out, inc)
	}
	return out
}

// loadNames reads the names the batch's summaries need.
func loadNames(ctx context.Context, m *projections.Model, batch []projections.Event) (*names, error) {
	n := &names{byStream: map[string]string{}}
	var streams []string
	seen := map[string]bool{}
	for _, e := range batch {
		for _, s := range needs(e) {
			if !seen[s] {
				seen[s] = true
				streams = append(streams, s)
			}
		}
	}
	if len(streams) == 0 {
		return n, nil
	}
	keys := make([]string, len(streams))
	for i, s := range streams {
		keys[i] = m.Key("name", s)
	}
	vals, err := m.R.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("timeline: names: %w", err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			n.byStream[streams[i]] = s
		}
	}
	return n, nil
}

// record keeps the name e gives its stream, if any, before e is summarized.
func (n *names) record(e projections.Event) {
	var name string
	switch ev := e.Event.(type) {
	case incident.IncidentReported:
		name = ev.Title
	case resource.ResourceRegistered:
		name = ev.Name
	default:
		return
	}
	if name == "" {
		return
	}
	if n.byStream[e.StreamID] != name {
		n.fresh = append(n.fresh, e.StreamID)
	}
	n.byStream[e.StreamID] = name
}

// save writes the names the batch recorded.
func (n *names) save(ctx context.Context, m *projections.Model) {
	for _, s := range n.fresh {
		m.W.Set(ctx, m.Key("name", s), n.byStream[s], 0)
	}
}
