package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// `vigie eventstore scavenge` erases what stream metadata hides, from $all too; it
// refuses a store being served (which scavenges itself), and the security journal
// hears of it.
func TestEventstoreScavengeErasesWhatMetadataHides(t *testing.T) {
	data := t.TempDir()
	p := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	c := dial(t, p.addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ids []uuid.UUID
	for i := range 3 {
		id := uuid.New()
		ids = append(ids, id)
		if _, err := c.AppendToStream(ctx, "releve-1", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: id, EventType: "Releve", ContentType: esdb.ContentTypeJson, Data: fmt.Appendf(nil, `{"i":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	var meta esdb.StreamMetadata
	meta.SetMaxCount(1)
	if _, err := c.SetStreamMetadata(ctx, "releve-1", esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runVigie(t, nil, "eventstore", "scavenge", "--data", data); code == 0 || !strings.Contains(stderr, "stop it") {
		t.Errorf("scavenge of a served store: exit %d, %s", code, stderr)
	}
	c.Close()
	p.stop(t, syscall.SIGTERM)

	stdout, stderr, code := runVigie(t, nil, "eventstore", "scavenge", "--data", data)
	if code != 0 || !strings.Contains(stdout, "2 events of 1 streams erased") {
		t.Fatalf("scavenge: exit %d, %s %s", code, stdout, stderr)
	}
	p = startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	c = dial(t, p.addr)
	rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var left []uuid.UUID
	for {
		e, err := rs.Recv()
		if err != nil {
			break
		}
		if e.Event.StreamID == "releve-1" {
			left = append(left, e.Event.EventID)
		}
	}
	rs.Close()
	if len(left) != 1 || left[0] != ids[2] {
		t.Errorf("$all holds %v of releve-1 after the scavenge, want only the last event %v", left, ids[2])
	}
	c.Close()
	p.stop(t, syscall.SIGTERM)

	files, _ := filepath.Glob(filepath.Join(data, "journal", "*.json"))
	if len(files) != 1 {
		t.Fatalf("security journal inbox holds %v, want the scavenge's entry", files)
	}
	raw, _ := os.ReadFile(files[0])
	var e struct{ Kind, Action string }
	if json.Unmarshal(raw, &e) != nil || e.Kind != "SCAVENGE" || e.Action != "vigie eventstore scavenge" {
		t.Errorf("journal entry %s", raw)
	}
}
