package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// acked is an append the store acknowledged.
type acked struct {
	id       uuid.UUID
	position uint64
}

// TestBackupWhileAppendingRestoresAConsistentPrefix backs up a serving store while
// writers keep appending, restores the file elsewhere and serves it: every event
// acknowledged before the backup started is there, the restored log is exactly the
// first events of the original one (no gap, nothing reordered), and its head is the
// manifest's.
func TestBackupWhileAppendingRestoresAConsistentPrefix(t *testing.T) {
	data, restored := t.TempDir(), filepath.Join(t.TempDir(), "restored")
	file := filepath.Join(t.TempDir(), "vigie.tar.gz")
	p := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	client := dial(t, p.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var acks []acked
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writeErr := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := esdb.EventData{EventID: uuid.New(), EventType: "Load", ContentType: esdb.ContentTypeJson, Data: []byte(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))}
				res, err := client.AppendToStream(ctx, fmt.Sprintf("load-%d", (w*7+i)%20), esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, ev)
				if err != nil {
					writeErr <- err
					return
				}
				mu.Lock()
				acks = append(acks, acked{ev.EventID, res.CommitPosition})
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	for count() < 300 {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	before := append([]acked(nil), acks...)
	mu.Unlock()
	stdout, stderr, code := runVigie(t, nil, "backup", "--data", data, "--to", file)
	during := count() - len(before)
	time.Sleep(100 * time.Millisecond) // appends go on after the backup too
	close(stop)
	wg.Wait()
	select {
	case err := <-writeErr:
		t.Fatalf("an append failed while the backup ran: %v", err)
	default:
	}
	if code != exitOK {
		t.Fatalf("vigie backup: exit %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "from the running store") {
		t.Errorf("backup did not go through the running store: %q", stdout)
	}
	t.Logf("%s(%d appends acknowledged while vigie backup ran)", stdout, during)
	original := readAll(ctx, t, client)
	client.Close()
	p.stop(t, syscall.SIGTERM)

	stdout, stderr, code = runVigie(t, nil, "restore", "--from", file, "--data", restored)
	if code != exitOK {
		t.Fatalf("vigie restore: exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"restored ", "vigie projections rebuild incidents"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("restore's output lacks %q: %q", want, stdout)
		}
	}
	manifestHead := manifestField(t, file, "head")

	p = startVigie(t, "serve", "eventstore", "--data", restored, "--listen", "127.0.0.1:0")
	client = dial(t, p.addr)
	defer client.Close()
	got := readAll(ctx, t, client)
	if uint64(len(got)) != manifestHead || len(got) == 0 || got[len(got)-1].Position.Commit != manifestHead {
		t.Fatalf("restored log: %d events, want the manifest's head %d", len(got), manifestHead)
	}
	if len(got) > len(original) {
		t.Fatalf("restored log has %d events, the original only %d", len(got), len(original))
	}
	for i, e := range got {
		// A prefix of the original, event for event: no gap, no reordering.
		if e.Position.Commit != uint64(i+1) || e.EventID != original[i].EventID {
			t.Fatalf("restored event %d = %s at %d, original has %s at %d", i, e.EventID, e.Position.Commit, original[i].EventID, original[i].Position.Commit)
		}
	}
	for _, a := range before {
		if a.position > manifestHead || got[a.position-1].EventID != a.id {
			t.Fatalf("event %s acknowledged at %d before the backup started is not in the restored log (head %d)", a.id, a.position, manifestHead)
		}
	}
	t.Logf("restored %d events; %d acknowledged before the backup, %d in the original log at the end", len(got), len(before), len(original))
	client.Close()
	p.stop(t, syscall.SIGTERM)
}

// TestRestoreRefusesDamagedBackupsAndLeavesTheTargetAlone: a flipped byte, a truncated
// file and a file that is no backup are refused with exit 1 and a message saying which,
// and neither a new target nor an existing one (with --force) is touched.
func TestRestoreRefusesDamagedBackupsAndLeavesTheTargetAlone(t *testing.T) {
	data := t.TempDir()
	p := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	client := dial(t, p.addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 200 {
		ev := esdb.EventData{EventID: uuid.New(), EventType: "E", ContentType: esdb.ContentTypeJson, Data: []byte(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 200)))}
		if _, err := client.AppendToStream(ctx, "s-"+strconv.Itoa(i%5), esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, ev); err != nil {
			t.Fatal(err)
		}
	}
	client.Close()
	p.stop(t, syscall.SIGTERM)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar")
	if _, stderr, code := runVigie(t, nil, "backup", "--data", data, "--to", good); code != exitOK {
		t.Fatalf("backup of a stopped store: exit %d: %s", code, stderr)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x40
	notBackup := []byte("PK\x03\x04 this is a zip file, or anything else\n")

	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"one byte flipped in the middle", flipped, "corrupt backup"},
		{"truncated", raw[:len(raw)/2], "truncated backup"},
		{"truncated before the trailer", raw[:len(raw)-1536], "truncated backup"},
		{"wrong magic", notBackup, "not a Vigie backup"},
		// A verified archive with something appended: tar readers stop at the end
		// marker, so only this check sees it.
		{"data appended after the end", append(append([]byte(nil), raw...), []byte("#!/bin/sh\nrm -rf /\n")...), "data after the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.tar")
			if err := os.WriteFile(file, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			target := filepath.Join(parent, "data")
			_, stderr, code := runVigie(t, nil, "restore", "--from", file, "--data", target)
			if code != exitError {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitError, stderr)
			}
			if !strings.HasPrefix(stderr, "vigie restore: ") || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "nothing restored") {
				t.Errorf("stderr = %q, want it to say %q and that nothing was restored", stderr, tc.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("the refused restore left %v next to the target", entries)
			}

			// An existing data directory, replaced only with --force, stays as it was.
			existing := filepath.Join(parent, "existing")
			if err := os.MkdirAll(filepath.Join(existing, "eventstore"), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(existing, "eventstore", "keep"), []byte("old log"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, code := runVigie(t, nil, "restore", "--from", file, "--data", existing, "--force"); code != exitError {
				t.Errorf("--force over an existing directory: exit %d, want %d", code, exitError)
			}
			if b, err := os.ReadFile(filepath.Join(existing, "eventstore", "keep")); err != nil || string(b) != "old log" {
				t.Errorf("the existing event store was touched: %q, %v", b, err)
			}
		})
	}

	t.Run("non-empty target without --force", func(t *testing.T) {
		target := t.TempDir()
		if err := os.WriteFile(filepath.Join(target, "something"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runVigie(t, nil, "restore", "--from", good, "--data", target)
		if code != exitError || !strings.Contains(stderr, "not empty") {
			t.Errorf("exit %d, stderr %q; want a refusal saying the directory is not empty", code, stderr)
		}
		if _, err := os.Stat(filepath.Join(target, "eventstore")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("restore wrote into a non-empty directory without --force: %v", err)
		}
	})
}

// readAll reads $all from the start, skipping nothing (the store has no system events).
func readAll(ctx context.Context, t *testing.T, client *esdb.Client) []*esdb.RecordedEvent {
	t.Helper()
	rs, err := client.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Start{}, Direction: esdb.Forwards}, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Event)
	}
}

// manifestField reads a number of the backup's manifest with the tar and gzip the
// operator has, not with the code under test.
func manifestField(t *testing.T, file, field string) uint64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no MANIFEST.json in %s: %v", file, err)
		}
		if hdr.Name != "MANIFEST.json" {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`"` + field + `": (\d+)`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("manifest has no %s: %s", field, b)
		}
		n, _ := strconv.ParseUint(string(m[1]), 10, 64)
		return n
	}
}
