package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/policies/journal"
	"vigie/services/alerts"
	"vigie/services/alerts/resident"
)

// The residents' key-encryption key (KEK) wraps every resident's key before it
// reaches the log (services/alerts.KeyVault). It is never in the log nor in
// `vigie backup` archives (those hold DIR/eventstore only): a copy of the log or
// of a backup alone opens no contact detail. It is backed up apart (README).

// kekFileEnv names the KEK file in production: a secret mounted 0400/0600.
const kekFileEnv = "VIGIE_RESIDENT_KEK_FILE"

// residentKEKFile is where the KEK is: VIGIE_RESIDENT_KEK_FILE, or
// DIR/keys/resident.kek (outside DIR/eventstore, so no backup takes it).
func residentKEKFile(data string) (path string, fromEnv bool) {
	if p := os.Getenv(kekFileEnv); p != "" {
		return p, true
	}
	return filepath.Join(data, "keys", "resident.kek"), false
}

// loadResidentKEK loads the KEK of the alerts service and its dispatcher. The
// data directory's file is made at the first start; the file that
// VIGIE_RESIDENT_KEK_FILE names must exist (a mistyped path must not make a new
// KEK that the other machines do not have). Either is refused when others may
// read it.
func loadResidentKEK(data string, log *slog.Logger) (*resident.Keyring, error) {
	path, fromEnv := residentKEKFile(data)
	var ring *resident.Keyring
	var err error
	if fromEnv {
		if ring, err = alerts.LoadKEKFile(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s=%s does not exist: make it once (head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE) and give the same file to every alerts process", kekFileEnv, path)
		}
	} else {
		var created bool
		ring, created, err = alerts.LoadOrCreateKEKFile(path)
		if created {
			log.Warn("made the residents' key-encryption key: back it up apart from the log and its backups (README)", "file", path, "kek", ring.Current())
		}
	}
	if err != nil {
		return nil, err
	}
	if prev := ring.Previous(); len(prev) > 0 {
		log.Warn("a rotation of the residents' key-encryption key is unfinished: run `vigie keys rotate` again", "file", path, "current", ring.Current(), "previous", prev)
	}
	return ring, nil
}

// dataArg is the --data of a command's args, as its flag set parses it, or the
// default: `vigie serve alerts` needs the data directory (for the KEK file)
// before serveService has parsed its flags.
func dataArg(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "data" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return dataDefault()
}

// keysRotate is `vigie keys rotate --data DIR`: a new KEK becomes current, every
// resident's key is re-wrapped under it in a new generation of its key stream
// and the older generation is tombstoned (erased from the log: the embedded
// store deletes a tombstoned stream's events, and compacts them out of its
// files before it closes), then the previous KEK leaves the file. Until then
// the file keeps both, so a rotation cut short leaves every key readable and
// is finished by running the command again. Keys written in clear by earlier
// versions are wrapped the same way; erasures cut short are finished
// (shredded). The log is the embedded store of DIR, which must not be served
// meanwhile (its lock refuses it), or EVENTSTORE_URL's, whose alerts services
// must be stopped first: one still running would wrap new keys under the old
// KEK.
func keysRotate(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory: its event store (unless EVENTSTORE_URL is set) and its KEK file (unless "+kekFileEnv+" is set) (env VIGIE_DATA)")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	path, fromEnv := residentKEKFile(*data)

	st, closeStore, err := openKeysStore(*data)
	if err != nil {
		return fail(err)
	}
	defer func() { closeStore() }()

	var ring *resident.Keyring
	if fromEnv {
		ring, err = alerts.LoadKEKFile(path)
	} else {
		// A log written before keys were wrapped has no KEK file yet.
		ring, _, err = alerts.LoadOrCreateKEKFile(path)
	}
	if err != nil {
		return fail(err)
	}
	if prev := ring.Previous(); len(prev) > 0 {
		fmt.Fprintf(stdout, "finishing the rotation to %s (keeping %s until every key is re-wrapped)\n", ring.Current(), strings.Join(prev, ", "))
	} else {
		if ring, err = ring.Rotated(); err != nil {
			return fail(err)
		}
		// The file holds the new KEK before any key is wrapped under it, and the
		// old one until none is left under it.
		if err := alerts.SaveKEKFile(path, ring); err != nil {
			return fail(fmt.Errorf("writing %s (nothing re-wrapped yet): %w", path, err))
		}
		fmt.Fprintf(stdout, "new key-encryption key %s in %s (keeping %s until every key is re-wrapped)\n", ring.Current(), path, strings.Join(ring.Previous(), ", "))
	}

	vault := alerts.KeyVault{Store: st, Keys: ring}
	commandID := "keys-rotate:" + ring.Current()
	res, err := vault.RewrapAll(ctx, commandID, time.Now())
	if err != nil {
		return fail(fmt.Errorf("re-wrapping (run again to finish; %s keeps every KEK meanwhile): %w", path, err))
	}
	if len(res.Failed) > 0 {
		for _, id := range slices.Sorted(maps.Keys(res.Failed)) {
			fmt.Fprintf(stderr, "vigie %s: resident %s: %v\n", name, id, res.Failed[id])
		}
		return fail(fmt.Errorf("%d keys could not be unwrapped with the KEKs of %s (a KEK file missing?); the others are re-wrapped, and every KEK stays in the file", len(res.Failed), path))
	}
	// A second pass proves every key is under the new KEK before the old one goes.
	check, err := vault.RewrapAll(ctx, commandID, time.Now())
	if err != nil {
		return fail(err)
	}
	if check.Rewrapped > 0 || len(check.Failed) > 0 {
		return fail(fmt.Errorf("%d keys were written under an older KEK while rotating: is an alerts service still running? Stop it and run again", check.Rewrapped+len(check.Failed)))
	}
	// Closing the embedded store waits for the tombstoned key streams to be
	// compacted out of its files.
	closeStore()
	closeStore = func() {}
	retired := ring.Previous()
	if err := alerts.SaveKEKFile(path, ring.Retired()); err != nil {
		return fail(fmt.Errorf("every key is re-wrapped, but %s still holds the previous KEK: %w", path, err))
	}
	fmt.Fprintf(stdout, "re-wrapped %d keys under %s (%d already were, %d erased residents' keys shredded); retired %s\n",
		res.Rewrapped, ring.Current(), res.Current, res.Shredded, strings.Join(retired, ", "))
	fmt.Fprintf(stdout, "back up %s apart from the log and its backups (README); backups taken before this need the retired KEK\n", path)
	journalCommand(*data, journal.KeysRotated, name, fmt.Sprintf("%d clés re-chiffrées sous %s, %s retirée", res.Rewrapped, ring.Current(), strings.Join(retired, ", ")), stderr)
	return exitOK
}

// openKeysStore opens the log at EVENTSTORE_URL, or else the embedded store of
// dataDir, which must exist and not be served.
func openKeysStore(dataDir string) (*store.Client, func(), error) {
	if url := os.Getenv("EVENTSTORE_URL"); url != "" {
		st, err := store.Open(url)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { st.Close() }, nil
	}
	dir := filepath.Join(dataDir, "eventstore")
	if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
		return nil, nil, fmt.Errorf("no event store in %s (set EVENTSTORE_URL for an external one)", dir)
	}
	es, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		return nil, nil, fmt.Errorf("the embedded store of %s (is it served? stop vigie first): %w", dataDir, err)
	}
	srv, opts, err := listenPrivately(es, dataDir) // an offline tool: the admin's access
	if err != nil {
		es.Close()
		return nil, nil, err
	}
	st, err := store.Open(srv.ClientURL(), opts...)
	if err != nil {
		srv.Close()
		es.Close()
		return nil, nil, err
	}
	return st, func() { st.Close(); srv.Close(); es.Close() }, nil
}
