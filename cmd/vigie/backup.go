package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"vigie/events/embedded"
	"vigie/policies/journal"
	"vigie/projections/boards"
)

// backup is `vigie backup --data DIR --to FILE`: a consistent copy of the embedded event
// store in DIR/eventstore, taken while it serves. The serving process holds the log's
// lock, so the copy is asked of it (a checkpoint through DIR/eventstore/admin.sock, see
// events/embedded/admin.go) and appends go on meanwhile; when nothing serves, the log
// is opened here. FILE appears only once whole and fsync'd.
func backup(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory whose event store (DIR/eventstore) is backed up (env VIGIE_DATA)")
	to := fs.String("to", "", "backup file to write; gzip'd when it ends in .gz or .tgz")
	force := fs.Bool("force", false, "replace FILE if it exists")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	if *to == "" {
		fmt.Fprintf(stderr, "vigie %s: --to FILE is required\n", name)
		return exitUsage
	}
	if _, err := os.Stat(*to); err == nil && !*force {
		return fail(fmt.Errorf("%s exists; choose another name (e.g. with the date) or pass --force", *to))
	}
	storeDir, err := filepath.Abs(filepath.Join(*data, "eventstore"))
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	// The checkpoint goes next to the log: on the same file system, its tables are hard
	// links, so it costs neither time nor space. It is removed whatever happens: it would
	// otherwise keep bytes that a later tombstone erases.
	tmp, err := os.MkdirTemp(filepath.Dir(storeDir), ".vigie-backup-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	ckpt := filepath.Join(tmp, "checkpoint")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	online, err := embedded.Snapshot(ctx, storeDir, ckpt)
	if err != nil {
		return fail(err)
	}

	out, err := os.CreateTemp(filepath.Dir(*to), "."+filepath.Base(*to)+".partial-")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(out.Name()) // after the rename, removes nothing
	compress := strings.HasSuffix(*to, ".gz") || strings.HasSuffix(*to, ".tgz")
	m, err := embedded.WriteBackup(out, ckpt, compress, start)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), *to)
	}
	if err == nil {
		err = syncParent(*to)
	}
	if err != nil {
		return fail(err)
	}
	fi, err := os.Stat(*to)
	if err != nil {
		return fail(err)
	}
	how := "from the running store"
	if !online {
		how = "from the log on disk (no store was running)"
	}
	fmt.Fprintf(stdout, "backup %s: %d events, head %d, %d bytes, %s, in %s\n",
		*to, m.Events, m.Head, fi.Size(), how, time.Since(start).Round(time.Millisecond))
	journalCommand(*data, journal.BackupTaken, name, fmt.Sprintf("sauvegarde de %d événements (tête %d) dans %s", m.Events, m.Head, filepath.Base(*to)), stderr)
	return exitOK
}

// restore is `vigie restore --from FILE --data DIR`. The whole file is checked (magic,
// every file's SHA-256, the trailer's digest of the archive, the extracted log's head
// and count) in a temporary directory next to DIR before anything is moved into DIR;
// a damaged file leaves DIR as it was.
func restore(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "backup file written by vigie backup")
	data := fs.String("data", dataDefault(), "data directory to restore into; the log goes to DIR/eventstore (env VIGIE_DATA)")
	force := fs.Bool("force", false, "restore into a non-empty DIR, replacing its event store (never while a process serves it)")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	if *from == "" {
		fmt.Fprintf(stderr, "vigie %s: --from FILE is required\n", name)
		return exitUsage
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return fail(err)
	}
	storeDir := filepath.Join(dir, "eventstore")
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if !*force {
			return fail(fmt.Errorf("%s is not empty; restore into an empty or new directory, or pass --force to replace its event store", dir))
		}
		if err := embedded.InUse(ctx, storeDir); err != nil {
			return fail(fmt.Errorf("%w; stop it before restoring", err))
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(err)
	}
	f, err := os.Open(*from)
	if err != nil {
		return fail(err)
	}
	defer f.Close()

	start := time.Now()
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".vigie-restore-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	m, err := embedded.ExtractBackup(f, filepath.Join(tmp, "eventstore"))
	if err != nil {
		return fail(fmt.Errorf("%s refused, nothing restored: %w", *from, err))
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(storeDir); err == nil {
		// --force: the old log moves aside (and is removed with tmp) only now that the
		// new one is verified.
		if err := os.Rename(storeDir, filepath.Join(tmp, "replaced-eventstore")); err != nil {
			return fail(err)
		}
	}
	// The store's users, its admin password and its CA live beside the log, not in
	// it (a backup holds none of them): the replaced store's go on serving the
	// restored log, so its clients' credentials and CA file stay valid.
	for _, f := range embedded.SecurityFiles() {
		err := os.Rename(filepath.Join(tmp, "replaced-eventstore", f), filepath.Join(tmp, "eventstore", f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(err)
		}
	}
	if err := os.Rename(filepath.Join(tmp, "eventstore"), storeDir); err != nil {
		return fail(err)
	}
	if err := errors.Join(embedded.SyncDir(dir), syncParent(dir)); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d events, head %d, backup of %s, in %s\n",
		*from, storeDir, m.Events, m.Head, m.CreatedAt.Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
	journalCommand(dir, journal.Restored, name, fmt.Sprintf("restauration de %d événements (tête %d) depuis %s, sauvegarde du %s",
		m.Events, m.Head, filepath.Base(*from), m.CreatedAt.UTC().Format(time.RFC3339)), stderr)
	fmt.Fprint(stdout, rebuildAdvice())
	return exitOK
}

// rebuildAdvice says what to run after a restore: read models kept in Redis still hold
// what the log held before, and their checkpoints may be past the restored head.
func rebuildAdvice() string {
	var b strings.Builder
	b.WriteString("read models: `vigie serve` without REDIS_URL rebuilds them from the log at start.\n")
	b.WriteString("With REDIS_URL, once the event store is started on the restored log, rebuild each one:\n")
	if all, err := boards.All(); err == nil {
		for _, p := range all {
			fmt.Fprintf(&b, "  vigie projections rebuild %s\n", p.Name())
		}
	}
	return b.String()
}

func syncParent(path string) error { return embedded.SyncDir(filepath.Dir(path)) }

// journalCommand leaves the security journal an entry of a command run apart from
// serve, in the data dir's inbox: the serving process takes it in (at once when it
// runs, at its next start otherwise). It names the system account that ran the
// command; the log as a whole is concerned, so it names no domain (a département's
// admin sees it). A failure to write it is said, and does not undo the command.
func journalCommand(data string, kind journal.Kind, command, reason string, stderr io.Writer) {
	actor := "inconnu"
	if u, err := user.Current(); err == nil {
		actor = u.Username
	}
	e := journal.Entry{Kind: kind, Actor: "système:" + actor, Action: "vigie " + command, Reason: reason}
	if err := journal.Drop(journalInbox(data), e); err != nil {
		fmt.Fprintf(stderr, "vigie %s: done, but the security journal could not be told: %v\n", command, err)
	}
}
