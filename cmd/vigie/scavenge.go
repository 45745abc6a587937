package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"vigie/events/embedded"
	"vigie/policies/journal"
)

// eventstoreScavenge is `vigie eventstore scavenge --data DIR`: it erases from the
// embedded event store in DIR/eventstore the events that stream reads no longer show
// (beyond a stream's $maxCount or $maxAge, before its $tb, of soft-deleted streams,
// superseded metadata), from $all and from the files (events/embedded/scavenge.go).
//
// It runs only on a store no process serves: a serving store scavenges itself on its
// own schedule (daily by default), so there is nothing to ask of it, and opening the
// log here while it serves is impossible anyway (the engine's lock).
func eventstoreScavenge(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory whose event store (DIR/eventstore) is scavenged (env VIGIE_DATA)")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	storeDir, err := filepath.Abs(filepath.Join(*data, "eventstore"))
	if err != nil {
		return fail(err)
	}
	if _, err := os.Stat(storeDir); errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("no event store in %s", storeDir))
	} else if err != nil {
		return fail(err)
	}
	if err := embedded.InUse(ctx, storeDir); err != nil {
		return fail(fmt.Errorf("%w; it scavenges itself daily: stop it to scavenge now", err))
	}
	start := time.Now()
	st, err := embedded.Open(embedded.Config{Dir: storeDir, NoAdminSocket: true, ScavengeEvery: -1})
	if err != nil {
		return fail(err)
	}
	res, err := st.Scavenge(ctx)
	// Close waits for the compactions that take the erased bytes out of the files.
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "scavenge %s: %d events of %d streams erased, in %s\n",
		storeDir, res.Events, res.Streams, time.Since(start).Round(time.Millisecond))
	journalCommand(*data, journal.Scavenged, name, fmt.Sprintf("%d événements de %d flux effacés", res.Events, res.Streams), stderr)
	return exitOK
}
