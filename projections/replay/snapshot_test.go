package replay_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"vigie/projections/replay"
)

// The gateway's Boards and the command's Snapshot are one path: the snapshot of one
// domain is, to the last field, the boards Boards returns for it.
func TestASnapshotOfOneDomainIsWhatBoardsReturns(t *testing.T) {
	ctx := context.Background()
	r, s, _ := crisisReplayer(t, 0)
	mid := s.Start.Add(12*s.Tick + s.Tick/2)
	for _, d := range []string{nimes, ales, gard} {
		for _, at := range []time.Time{mid, s.Now()} {
			b, err := r.Boards(ctx, d, at)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := r.Snapshot(ctx, replay.SnapshotOptions{At: at, Domains: []string{d}})
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Boards) != 1 || len(snap.Timeline) != 0 {
				t.Fatalf("%s at %s: %d boards, %d timeline entries; want 1 and none", d, at, len(snap.Boards), len(snap.Timeline))
			}
			want, _ := json.Marshal(b)
			got, _ := json.Marshal(snap.Boards[0])
			if string(got) != string(want) {
				t.Errorf("%s at %s:\n snapshot %s\n boards   %s", d, at, got, want)
			}
			if !snap.At.Equal(b.At) || snap.Position != b.Position || snap.Events != b.Events || len(b.Incidents) == 0 {
				t.Errorf("%s at %s: snapshot at %s, %s, %d events; boards at %s, %s, %d events, %d incidents",
					d, at, snap.At, snap.Position, snap.Events, b.At, b.Position, b.Events, len(b.Incidents))
			}
		}
	}
}

// Without domains, a snapshot reads every département of the log; with a stream, it
// keeps that stream's items and the timeline entries of it or about it.
func TestASnapshotOfTheLogAndOfOneStream(t *testing.T) {
	ctx := context.Background()
	r, s, rdb := crisisReplayer(t, 0)
	all, err := r.Snapshot(ctx, replay.SnapshotOptions{At: s.Now(), Timeline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Boards) != 1 || all.Boards[0].Domain != gard || len(all.Boards[0].Incidents) != 3 || len(all.Timeline) < 25 {
		t.Fatalf("the whole log: %d boards (%+v), %d timeline entries", len(all.Boards), all.Boards, len(all.Timeline))
	}
	stream := "incident-" + s.ID("B")
	one, err := r.Snapshot(ctx, replay.SnapshotOptions{At: s.Now(), Domains: []string{gard}, Stream: stream, Timeline: true})
	if err != nil {
		t.Fatal(err)
	}
	b := one.Boards[0]
	if len(b.Incidents) != 1 || b.Incidents[0].ID != s.ID("B") || len(b.Resources) != 1 || len(b.Alerts) != 0 {
		t.Errorf("the boards of %s: %+v", stream, b)
	}
	if len(one.Timeline) < 4 || len(one.Timeline) >= len(all.Timeline) {
		t.Errorf("the timeline of %s: %d entries of %d", stream, len(one.Timeline), len(all.Timeline))
	}
	for _, e := range one.Timeline {
		if e.StreamID != stream && e.About != stream {
			t.Errorf("an entry of %s (about %q) in the timeline of %s", e.StreamID, e.About, stream)
		}
	}
	if keys := rdb.Keys(ctx, "vigie:replay:*").Val(); len(keys) != 0 {
		t.Errorf("replay keys left: %d", len(keys))
	}
}
