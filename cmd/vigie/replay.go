package main

import (
	"bytes"
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
	"vigie/events/labels"
	"vigie/events/store"
	"vigie/projections/replay"
)

// replayCmd prints the boards as they were at an instant, and the timeline up to it,
// as JSON: {"boards": [...], "timeline": [...]}, its values spelt as the gateway's
// GraphQL spells them (graphQLSpellings). It reads the log at EVENTSTORE_URL, or the
// embedded store of --data when it is not running, and builds the replay in a
// disposable key space of REDIS_URL, or of an in-process Redis when that is unset.
// --report FILE writes the after-action report too (HTML when FILE ends in .html,
// JSON otherwise). An instant before the log's first event prints no board: it says
// so on stderr, with the time the log starts, and exits 1 (exitNothingBefore).
func replayCmd(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	atFlag := fs.String("at", "", "l'instant, RFC 3339 (par ex. 2026-11-27T03:30:00+01:00) ; obligatoire. Avant le premier événement du journal : rien sur la sortie, un message, code de sortie 1")
	domain := fs.String("domain", "", "une commune (dep:30/com:30189) ou un département (dep:30) ; par défaut : chaque département du journal")
	stream := fs.String("stream", "", "ne garder que les éléments et l'historique de ce flux (par ex. incident-<id>)")
	report := fs.String("report", "", "écrire le retour d'expérience dans FICHIER (.html : page imprimable ; sinon JSON)")
	fromFlag := fs.String("from", "", "le début du retour d'expérience, RFC 3339 (par défaut : le début du journal)")
	data := fs.String("data", "", "lire le magasin d'événements intégré de ce répertoire de données (arrêté) au lieu d'EVENTSTORE_URL")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s : %v\n", name, err); return exitError }
	at, err := time.Parse(time.RFC3339Nano, *atFlag)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s : --at doit être une date RFC 3339, par ex. 2026-11-27T03:30:00+01:00 : %q\n", name, *atFlag)
		return exitUsage
	}
	var from time.Time
	if *fromFlag != "" {
		if from, err = time.Parse(time.RFC3339Nano, *fromFlag); err != nil {
			fmt.Fprintf(stderr, "vigie %s : --from doit être une date RFC 3339 : %q\n", name, *fromFlag)
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
	if out.Events == 0 {
		// An empty board would read as a quiet night: say that the log had not begun.
		first, found, err := firstEventTime(ctx, st)
		if err != nil {
			return fail(err)
		}
		if !found {
			fmt.Fprintf(stderr, "vigie %s : aucun événement avant le %s : le journal est vide\n", name, frenchTime(at))
		} else {
			fmt.Fprintf(stderr, "vigie %s : aucun événement avant le %s : le journal commence le %s\n", name, frenchTime(at), frenchTime(first))
		}
		return exitNothingBefore
	}
	spelt, err := graphQLSpellings(out)
	if err != nil {
		return fail(err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(spelt); err != nil {
		return fail(err)
	}
	if *report == "" {
		return exitOK
	}
	if *domain == "" {
		fmt.Fprintf(stderr, "vigie %s : --report demande --domain\n", name)
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
	fmt.Fprintf(stderr, "vigie %s : retour d'expérience écrit dans %s\n", name, *report)
	return exitOK
}

// exitNothingBefore is replay's exit code for an instant before the log's first event:
// nothing to show is not a board, and a script must not take it for one.
const exitNothingBefore = exitError

// firstEventTime is the time of the log's first event, as the replay reads it: its
// metadata's occurredAt, the store's time when missing. found is false for an empty log.
func firstEventTime(ctx context.Context, st *store.Client) (first time.Time, found bool, err error) {
	errFound := errors.New("found")
	err = st.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(rec store.Recorded) error {
		if rec.System() || strings.HasPrefix(rec.StreamID, "$") {
			return nil
		}
		var md struct {
			OccurredAt time.Time `json:"occurredAt"`
		}
		first = rec.Created
		if json.Unmarshal(rec.Metadata, &md) == nil && !md.OccurredAt.IsZero() {
			first = md.OccurredAt
		}
		found = true
		return errFound
	})
	if errors.Is(err, errFound) {
		err = nil
	}
	return first, found, err
}

// frenchTime writes an instant as a French reader expects it, in Paris time with its
// offset (UTC when the system has no zone database): « 26/11/2026 à 21:00:00 (UTC+01:00) ».
func frenchTime(t time.Time) string {
	if paris, err := time.LoadLocation("Europe/Paris"); err == nil {
		t = t.In(paris)
	} else {
		t = t.UTC()
	}
	return t.Format("02/01/2006 à 15:04:05 (UTC-07:00)")
}

// enumFields are the JSON fields of the boards whose values are the contract's enums,
// with the label sets that know them: the gateway spells these in capitals.
var enumFields = map[string][]labels.Set{
	"kind":      {labels.IncidentKinds, labels.ResourceKinds},
	"severity":  {labels.Severities},
	"status":    {labels.IncidentStatuses, labels.ResourceStatuses, labels.AlertStatuses},
	"state":     {labels.ChannelStates},
	"channel":   {labels.Channels},
	"channels":  {labels.Channels},
	"urgency":   {labels.Urgencies},
	"certainty": {labels.Certainties},
	"category":  {labels.Categories},
}

// graphQLSpellings returns v as JSON values with the enums of enumFields spelt as the
// gateway's GraphQL spells them ("flash_flood" → "FLASH_FLOOD", "Severe" → "SEVERE"),
// so that what the CLI prints can be compared with what the gateway answers. A value
// no set knows, and every other field, is left as it is; numbers keep their digits.
func graphQLSpellings(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var walk func(key string, x any) any
	walk = func(key string, x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(k, e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(key, e)
			}
		case string:
			for _, set := range enumFields[key] {
				if _, ok := set.Lookup(x); ok {
					return labels.GraphQL(x)
				}
			}
		}
		return x
	}
	return walk("", tree), nil
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
			return nil, nil, nil, fmt.Errorf("le magasin d'événements intégré de %s (est-il servi ? alors passez par EVENTSTORE_URL) : %w", dataDir, err)
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
		return nil, nil, nil, errors.New("donnez EVENTSTORE_URL ou --data RÉPERTOIRE")
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
