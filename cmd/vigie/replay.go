package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/projections/replay"
)

// replayCmd prints the boards as they were at an instant, and the timeline up to it,
// as JSON: {"boards": [...], "timeline": [...]}. It reads the log at EVENTSTORE_URL,
// or the embedded store of --data when it is not running, and builds the replay in a
// disposable key space of REDIS_URL, or of an in-process Redis when that is unset.
// --report FILE writes the after-action report too (HTML when FILE ends in .html,
// JSON otherwise).
func replayCmd(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	atFlag := fs.String("at", "", "the instant, RFC 3339 (e.g. 2026-10-17T07:30:00+02:00); required")
	domain := fs.String("domain", "", "a commune (dep:30/com:30189) or a département (dep:30); default: every département of the log")
	stream := fs.String("stream", "", "keep only this stream's items and timeline entries (e.g. incident-<id>)")
	report := fs.String("report", "", "write the after-action report to FILE (.html: printable page; otherwise JSON)")
	fromFlag := fs.String("from", "", "the report's start, RFC 3339 (default: the start of the log)")
	data := fs.String("data", "", "read the embedded store of this data directory (not running) instead of EVENTSTORE_URL")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	at, err := time.Parse(time.RFC3339Nano, *atFlag)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: --at must be an RFC 3339 time: %q\n", name, *atFlag)
		return exitUsage
	}
	var from time.Time
	if *fromFlag != "" {
		if from, err = time.Parse(time.RFC3339Nano, *fromFlag); err != nil {
			fmt.Fprintf(stderr, "vigie %s: --from must be an RFC 3339 time: %q\n", name, *fromFlag)
			return exitUsage
		}
	}
	st, rdb, closeAll, err := openReplayStores(*data)
	if err != nil {
		return fail(err)
	}
	defer closeAll()
	r := &replay.Replayer{Store: st, Redis: rdb}

	var domains []string // none: every département of the log
	if *domain != "" {
		domains = []string{*domain}
	}
	out, err := r.Snapshot(ctx, replay.SnapshotOptions{At: at, Domains: domains, Stream: *stream, Timeline: true})
	if err != nil {
		return fail(err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fail(err)
	}
	if *report == "" {
		return exitOK
	}
	if *domain == "" {
		fmt.Fprintf(stderr, "vigie %s: --report needs --domain\n", name)
		return exitUsage
	}
	rep, err := r.Report(ctx, replay.ReportOptions{Domain: *domain, From: from, To: at, At: []time.Time{at}, Stream: *stream})
	if err != nil {
		return fail(err)
	}
	f, err := os.Create(*report)
	if err != nil {
		return fail(err)
	}
	if strings.HasSuffix(*report, ".html") {
		err = rep.WriteHTML(f)
	} else {
		err = rep.WriteJSON(f)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "vigie %s: report written to %s\n", name, *report)
	return exitOK
}

// openReplayStores opens the log (the embedded store of dataDir when given, else
// EVENTSTORE_URL) and a Redis for the replay's disposable key spaces (REDIS_URL, else
// an in-process one).
func openReplayStores(dataDir string) (*store.Client, redis.UniversalClient, func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	url := os.Getenv("EVENTSTORE_URL")
	var opts []store.Option
	if dataDir != "" {
		es, err := embedded.Open(embedded.Config{Dir: filepath.Join(dataDir, "eventstore")})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("the embedded store of %s (is it running? then use EVENTSTORE_URL): %w", dataDir, err)
		}
		closers = append(closers, func() { es.Close() })
		srv, o, err := listenPrivately(es, dataDir) // an offline tool: the admin's access
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		closers = append(closers, func() { srv.Close() })
		url, opts = srv.ClientURL(), o
	}
	if url == "" {
		return nil, nil, nil, errors.New("set EVENTSTORE_URL or give --data DIR")
	}
	st, err := store.Open(url, opts...)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	closers = append(closers, func() { st.Close() })
	var rdb *redis.Client
	if u := os.Getenv("REDIS_URL"); u != "" {
		if rdb, err = openRedis(u); err != nil {
			closeAll()
			return nil, nil, nil, err
		}
	} else {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		closers = append(closers, mr.Close)
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	}
	closers = append(closers, func() { rdb.Close() })
	return st, rdb, closeAll, nil
}
