package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/events/territory"
	"vigie/graph/drill"
	"vigie/identity"
)

const drillHelp = `Replays the recorded crisis of DOMAIN (a commune) into EXERCISE_DOMAIN at N times its
pace, command by command, through the gateway: incidents and their main courante,
resources (engagements, status, shelter occupancy), reinforcement requests, and alerts
(drafted as exercises: CAP status Exercise, texts prefixed "EXERCICE"; the dispatcher never
sends an exercise to FR-Alert). Residents, role grants and the dispatcher's own events are
not replayed: no personal data is copied, and only residents registered in the exercise
domain could receive anything.

Each command is signed with a development token (the key in --data) for the recorded
actor's subject suffixed "-exercice", with the recorded role, granted on EXERCISE_DOMAIN
(the prefecture's on its département). Command ids derive from the recorded event ids, so
a drill restarted resends the same commands and changes nothing twice.

EXERCISE_DOMAIN must be a commune other than DOMAIN. Use a commune kept for drills, where
nobody is registered: by convention com:<département>999 (dep:30/com:30999), which is no
INSEE code (the Gard's end at 30356); any other commune is accepted, with a warning.

The log is read at EVENTSTORE_URL, or in the embedded store of --data when no server holds it.
`

// drillCmd is `vigie drill`.
func drillCmd(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: vigie %s --from DOMAIN --to EXERCISE_DOMAIN --speed N [flags]\n\n%s\nFlags:\n", name, drillHelp)
		fs.PrintDefaults()
	}
	from := fs.String("from", "", "the recorded crisis' commune, e.g. dep:30/com:30189; required")
	to := fs.String("to", "", "the exercise commune, e.g. dep:30/com:30999; required")
	speed := fs.Float64("speed", 1, "pace: the recorded gaps between commands are divided by N")
	gwDefault := os.Getenv("VIGIE_GATEWAY_URL")
	if gwDefault == "" {
		gwDefault = "http://127.0.0.1:8080"
	}
	gateway := fs.String("gateway", gwDefault, "the gateway's base URL (env VIGIE_GATEWAY_URL)")
	data := fs.String("data", dataDefault(), "data directory: the signing key, and the embedded store when EVENTSTORE_URL is unset (env VIGIE_DATA)")
	sinceFlag := fs.String("since", "", "replay only what happened from TIME (RFC 3339)")
	untilFlag := fs.String("until", "", "replay only what happened before TIME (RFC 3339)")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "vigie %s: "+format+"\n", append([]any{name}, a...)...)
		return exitUsage
	}
	src, err := territory.Parse(*from)
	if err != nil || src.IsDepartement() {
		return usageErr("--from must be a commune's domain, like dep:30/com:30189: %q", *from)
	}
	dst, err := territory.Parse(*to)
	if err != nil || dst.IsDepartement() {
		return usageErr("--to must be a commune's domain (an exercise commune, like dep:30/com:30999): %q", *to)
	}
	if src.String() == dst.String() {
		return usageErr("--to must differ from --from: a drill never writes into the real crisis")
	}
	if !(*speed > 0) || *speed > 1e6 {
		return usageErr("--speed must be a positive number")
	}
	var since, until time.Time
	if *sinceFlag != "" {
		if since, err = time.Parse(time.RFC3339Nano, *sinceFlag); err != nil {
			return usageErr("--since must be an RFC 3339 time: %q", *sinceFlag)
		}
	}
	if *untilFlag != "" {
		if until, err = time.Parse(time.RFC3339Nano, *untilFlag); err != nil {
			return usageErr("--until must be an RFC 3339 time: %q", *untilFlag)
		}
	}
	if !strings.HasSuffix(dst.Commune, "999") {
		fmt.Fprintf(stderr, "vigie %s: warning: %s is not the conventional exercise commune dep:%s/com:%s999; make sure nobody is registered there\n",
			name, dst, dst.Departement, dst.Departement)
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }

	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		return fail(err)
	}
	d, err := drill.New(drill.Config{From: src.String(), To: dst.String(), Speed: *speed, Key: key, Gateway: *gateway})
	if err != nil {
		return fail(err)
	}
	recorded, err := readCrisis(ctx, *data, src.String(), since, until)
	if err != nil {
		return fail(err)
	}
	if len(recorded) == 0 {
		return fail(fmt.Errorf("no recorded command of %s in the log", src))
	}
	span := drill.Span(recorded)
	planned := time.Duration(float64(span) / *speed)
	fmt.Fprintf(stdout, "drill %s → %s at speed %g: %d recorded events over %s, to take %s\n",
		src, dst, *speed, len(recorded), span.Round(time.Millisecond), planned.Round(time.Millisecond))
	sum, err := d.Run(ctx, recorded, func(s drill.Step) {
		typ := s.Recorded.Event.EventType()
		switch {
		case s.Skipped != "":
			fmt.Fprintf(stderr, "drill: skipped %s %s (%s)\n", s.Recorded.Meta.EventID, typ, s.Skipped)
		case s.Err != nil:
			fmt.Fprintf(stderr, "drill: +%.3fs %s %s as %s: %v\n", s.Offset.Seconds(), typ, s.Op, s.As, s.Err)
		default:
			fmt.Fprintf(stdout, "+%8.3fs  %-24s %-22s %s\n", s.Offset.Seconds(), typ, s.Op, s.ID)
		}
	})
	if errors.Is(err, drill.ErrInterrupted) {
		fmt.Fprintf(stderr, "drill: interrupted after %d commands\n", sum.Sent)
		return exitError
	}
	if err != nil {
		fmt.Fprintf(stderr, "drill: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "drill done: %d commands in %s (recorded %s ÷ %g = %s), %d skipped, %d failed\n",
		sum.Sent, sum.Took.Round(time.Millisecond), span.Round(time.Millisecond), *speed,
		planned.Round(time.Millisecond), sum.Skipped, sum.Failed)
	if sum.Failed > 0 {
		return exitError
	}
	return exitOK
}

// readCrisis reads the crisis of domain (drill.Read) in the log at EVENTSTORE_URL, or
// in the embedded store of dataDir when it is unset.
func readCrisis(ctx context.Context, dataDir, domain string, since, until time.Time) ([]drill.Recorded, error) {
	st, closeAll, err := openDrillStore(dataDir)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	return drill.Read(ctx, st, domain, since, until)
}

// openDrillStore opens EVENTSTORE_URL, or the embedded store of dataDir when it is unset.
func openDrillStore(dataDir string) (*store.Client, func(), error) {
	url := os.Getenv("EVENTSTORE_URL")
	var opts []store.Option
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if url == "" {
		es, err := embedded.Open(embedded.Config{Dir: filepath.Join(dataDir, "eventstore")})
		if err != nil {
			return nil, nil, fmt.Errorf("the embedded store of %s (is a server holding it? then set EVENTSTORE_URL): %w", dataDir, err)
		}
		closers = append(closers, func() { es.Close() })
		srv, o, err := listenPrivately(es, dataDir) // an offline tool: the admin's access
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, func() { srv.Close() })
		url, opts = srv.ClientURL(), o
	}
	st, err := store.Open(url, opts...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, func() { st.Close() })
	return st, closeAll, nil
}
