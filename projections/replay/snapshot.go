package replay

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events/store"
	"vigie/projections"
	"vigie/projections/timeline"
)

// SnapshotOptions choose what a snapshot holds.
type SnapshotOptions struct {
	At time.Time
	// Domains whose boards it reads (communes or départements), in this order; none:
	// every département named by the log up to At, in their order.
	Domains []string
	// Stream, when set, keeps the boards' items of that stream, and the timeline
	// entries of it or about it.
	Stream string
	// Timeline: read each domain's timeline up to At as well.
	Timeline bool
}

// Snapshot is the boards of some domains as they were at an instant, and their
// timelines up to it: what `vigie replay` prints, and (one domain, no timeline) what
// Boards serves the gateway, so that the two cannot differ.
type Snapshot struct {
	At       time.Time        `json:"at"`
	Position store.Position   `json:"position"` // the last event of the log replayed
	Events   int              `json:"events"`   // events of the log replayed
	Boards   []*Boards        `json:"boards"`   // one per domain, in Domains' order
	Timeline []timeline.Entry `json:"timeline"` // the domains' entries, one domain after the other
}

// Snapshot replays the log up to o.At once and reads what o asks for from it. The
// caller authorizes: like the live boards.
func (r *Replayer) Snapshot(ctx context.Context, o SnapshotOptions) (*Snapshot, error) {
	out := &Snapshot{At: o.At.UTC(), Boards: []*Boards{}, Timeline: []timeline.Entry{}}
	opts := Options{At: o.At, Boards: BoardNames()}
	if o.Timeline {
		opts.Boards = append(opts.Boards, timeline.Name)
	}
	domains := o.Domains
	deps := map[string]bool{}
	if len(domains) == 0 {
		// Only the log knows its départements: the replay's own pass over it says.
		reg, err := Registry()
		if err != nil {
			return nil, err
		}
		opts.Registry = reg
		opts.Observe = func(e projections.Event) {
			if d, _, _ := strings.Cut(e.Meta.Domain, "/"); strings.HasPrefix(d, "dep:") {
				deps[d] = true
			}
		}
	}
	err := r.Run(ctx, opts, func(ctx context.Context, res Result) error {
		out.Position, out.Events = res.Position, res.Events
		if len(o.Domains) == 0 {
			domains = make([]string, 0, len(deps))
			for d := range deps {
				domains = append(domains, d)
			}
			slices.Sort(domains)
		}
		for _, d := range domains {
			b, err := Read(ctx, r.Redis, res.Space, d)
			if err != nil {
				return err
			}
			b.At, b.Position, b.Events = out.At, res.Position, res.Events
			out.Boards = append(out.Boards, b.Only(o.Stream))
			if !o.Timeline {
				continue
			}
			entries, err := readTimeline(ctx, r.Redis, res.Space, d, time.Time{}, o.At, o.Stream)
			if err != nil {
				return err
			}
			out.Timeline = append(out.Timeline, entries...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readTimeline reads domain's timeline entries between from and to from a key space,
// page by page, keeping those of stream or about it ("": all of them).
func readTimeline(ctx context.Context, rdb redis.Cmdable, space, domain string, from, to time.Time, stream string) ([]timeline.Entry, error) {
	tr := timeline.Reader{Redis: rdb, Space: space}
	var out []timeline.Entry
	for off := int64(0); ; off += page {
		entries, err := tr.Range(ctx, domain, from, to, timeline.Page{Offset: off, Limit: page})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if stream == "" || e.StreamID == stream || e.About == stream {
				out = append(out, e)
			}
		}
		if len(entries) < page {
			return out, nil
		}
	}
}
