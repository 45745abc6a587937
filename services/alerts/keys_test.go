package alerts_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/events/store"
	"vigie/events/storetest"
	"vigie/services/alerts"
	"vigie/services/alerts/resident"
)

var registrar = events.Actor{Subject: "rac-nimes", Role: events.RoleRAC}

const keysDomain = "dep:30/com:30189"

func newRing(t *testing.T) *resident.Keyring {
	t.Helper()
	ring, err := resident.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func issue(t *testing.T, v alerts.KeyVault, id string) []byte {
	t.Helper()
	key, err := v.Issue(context.Background(), id, keysDomain, "register-"+id, registrar, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// keyEvents returns every event of the key streams in $all.
func keyEvents(t *testing.T, c *store.Client) []store.Recorded {
	t.Helper()
	all, err := c.ReadAll(context.Background(), store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Recorded
	for _, r := range all {
		if events.Category(r.StreamID) == resident.KeyCategory {
			out = append(out, r)
		}
	}
	return out
}

// holdsKey reports whether raw holds key, as bytes or in base64 (how JSON
// writes []byte).
func holdsKey(raw, key []byte) bool {
	return bytes.Contains(raw, key) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(key)))
}

// legacyKey writes a key in clear, as versions before wrapping did.
func legacyKey(t *testing.T, c *store.Client, id string) []byte {
	t.Helper()
	reg, err := alerts.Registry()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := resident.NewKey()
	stream := resident.KeyStreamID(id)
	md := events.NewMetadata("legacy-"+id, registrar, keysDomain, time.Now())
	md.EventID = command.EventID(stream, registrar.Subject, "legacy-"+id, 0).String()
	env, err := reg.Encode(context.Background(), resident.ResidentKeyIssued{ResidentID: id, Key: key}, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(context.Background(), stream, store.NoStream(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
	return key
}

// The vault writes the key wrapped, names the KEK, and reads it back; another
// KEK reads nothing.
func TestTheVaultWritesEveryKeyWrappedUnderTheKEK(t *testing.T) {
	c, _ := storetest.Embedded(t)
	ring := newRing(t)
	v := alerts.KeyVault{Store: c, Keys: ring}
	key := issue(t, v, "r1")
	if again := issue(t, v, "r1"); !bytes.Equal(again, key) {
		t.Fatal("a second Issue made another key")
	}
	recs := keyEvents(t, c)
	if len(recs) != 1 || recs[0].Type != "ResidentKeyWrapped" {
		t.Fatalf("key events %v", recs)
	}
	if holdsKey(recs[0].Data, key) || holdsKey(recs[0].Metadata, key) {
		t.Fatal("the key is in clear in the log")
	}
	if !bytes.Contains(recs[0].Data, []byte(`"kekId":"`+ring.Current()+`"`)) {
		t.Errorf("the event does not name the KEK %s: %s", ring.Current(), recs[0].Data)
	}
	if got, err := v.Get(context.Background(), "r1"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Get: %v", err)
	}
	if _, err := (alerts.KeyVault{Store: c, Keys: newRing(t)}).Get(context.Background(), "r1"); !errors.Is(err, resident.ErrUnknownKEK) {
		t.Errorf("Get with another KEK: %v, want ErrUnknownKEK", err)
	}
	if _, err := v.Get(context.Background(), "never"); !errors.Is(err, resident.ErrNotFound) {
		t.Errorf("Get of a resident without key: %v, want ErrNotFound", err)
	}
}

// A key written in clear by an earlier version still opens; a rewrap moves it,
// wrapped, to the next generation and erases the clear one from the log.
func TestRewrapReplacesAKeyWrittenInClear(t *testing.T) {
	c, _ := storetest.Embedded(t)
	ring := newRing(t)
	v := alerts.KeyVault{Store: c, Keys: ring}
	key := legacyKey(t, c, "old")
	if got, err := v.Get(context.Background(), "old"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("the clear key does not read: %v", err)
	}
	if done, err := v.Rewrap(context.Background(), "old", "rotate-1", time.Now()); err != nil || done != alerts.KeyRewrapped {
		t.Fatalf("Rewrap: %v %v", done, err)
	}
	if _, err := c.ReadStream(context.Background(), resident.KeyStreamID("old"), store.Start, store.Forwards, 1); !errors.Is(err, store.ErrStreamDeleted) {
		t.Errorf("generation 0 after the rewrap: %v, want deleted", err)
	}
	for _, r := range keyEvents(t, c) {
		if holdsKey(r.Data, key) {
			t.Errorf("the clear key is still in $all (%s)", r.StreamID)
		}
	}
	if got, err := v.Get(context.Background(), "old"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("after the rewrap: %v", err)
	}
	if done, err := v.Rewrap(context.Background(), "old", "rotate-1", time.Now()); err != nil || done != alerts.KeyCurrent {
		t.Errorf("a second rewrap: %v %v, want KeyCurrent", done, err)
	}
}

// A rotation re-wraps every key under the new KEK; the old KEK then opens
// nothing the log holds, the retired keyring opens everything.
func TestARotationLeavesNothingTheOldKEKOpens(t *testing.T) {
	c, _ := storetest.Embedded(t)
	old := newRing(t)
	keys := map[string][]byte{}
	for i := range 5 {
		id := fmt.Sprintf("r%d", i)
		keys[id] = issue(t, alerts.KeyVault{Store: c, Keys: old}, id)
	}
	keys["legacy"] = legacyKey(t, c, "legacy")
	rotated, err := old.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	res, err := (alerts.KeyVault{Store: c, Keys: rotated}).RewrapAll(context.Background(), "rotate", time.Now())
	if err != nil || res.Rewrapped != 6 || len(res.Failed) != 0 {
		t.Fatalf("RewrapAll: %+v %v", res, err)
	}
	reg, _ := resident.KeyRegistry()
	for _, r := range keyEvents(t, c) {
		e, _, err := reg.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := e.(resident.ResidentKeyWrapped)
		if !ok {
			t.Fatalf("%s holds a %s", r.StreamID, r.Type)
		}
		if w.KEKID != rotated.Current() {
			t.Errorf("%s wrapped under %s", r.StreamID, w.KEKID)
		}
		if _, err := old.Unwrap(w.ResidentID, w.Wrapped, old.Current()); err == nil {
			t.Errorf("the old KEK opens %s", r.StreamID)
		}
	}
	retired := alerts.KeyVault{Store: c, Keys: rotated.Retired()}
	for id, key := range keys {
		if got, err := retired.Get(context.Background(), id); err != nil || !bytes.Equal(got, key) {
			t.Errorf("%s after the rotation: %v", id, err)
		}
		if _, err := (alerts.KeyVault{Store: c, Keys: old}).Get(context.Background(), id); err == nil {
			t.Errorf("%s still opens with the old KEK", id)
		}
	}
	if again, err := retired.RewrapAll(context.Background(), "rotate", time.Now()); err != nil || again.Current != 6 || again.Rewrapped != 0 {
		t.Errorf("second pass: %+v %v", again, err)
	}
}

// Erasure shreds every generation of the key, and wins over a rotation run at
// the same time: no interleaving leaves a key in the log.
func TestErasureShredsEveryGenerationEvenDuringARotation(t *testing.T) {
	c, _ := storetest.Embedded(t)
	ring := newRing(t)
	v := alerts.KeyVault{Store: c, Keys: ring}
	issue(t, v, "a")
	rotated, _ := ring.Rotated()
	rv := alerts.KeyVault{Store: c, Keys: rotated}
	if done, err := rv.Rewrap(context.Background(), "a", "rot", time.Now()); err != nil || done != alerts.KeyRewrapped {
		t.Fatal(done, err)
	}
	if err := v.Shred(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := rv.Get(context.Background(), "a"); !errors.Is(err, resident.ErrErased) {
		t.Errorf("after erasure: %v, want ErrErased", err)
	}
	if done, err := rv.Rewrap(context.Background(), "a", "rot-2", time.Now()); err != nil || done != alerts.KeyAbsent {
		t.Errorf("rewrap after erasure: %v %v, want KeyAbsent", done, err)
	}

	const n = 40
	for i := range n {
		issue(t, v, fmt.Sprintf("race-%d", i))
	}
	var wg sync.WaitGroup
	shredErrs, rewrapErrs := make(chan error, n), make(chan error, n)
	for i := range n {
		id := fmt.Sprintf("race-%d", i)
		wg.Add(2)
		go func() { defer wg.Done(); shredErrs <- v.Shred(context.Background(), id) }()
		go func() {
			defer wg.Done()
			_, err := rv.Rewrap(context.Background(), id, "rot-race", time.Now())
			rewrapErrs <- err
		}()
	}
	wg.Wait()
	close(shredErrs)
	close(rewrapErrs)
	for err := range shredErrs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A rewrap may fail here (the embedded store answers a read racing a
	// tombstone with an internal error): the rotation is then run again. What
	// matters is that no interleaving leaves a key.
	for err := range rewrapErrs {
		if err != nil {
			t.Logf("rewrap raced with the erasure: %v", err)
		}
	}
	for i := range n {
		if _, err := rv.Get(context.Background(), fmt.Sprintf("race-%d", i)); !errors.Is(err, resident.ErrErased) {
			t.Errorf("race-%d after erasure raced with a rotation: %v, want ErrErased", i, err)
		}
	}
	if recs := keyEvents(t, c); len(recs) != 0 {
		t.Errorf("%d key events left in $all, first %s", len(recs), recs[0].StreamID)
	}
}

// A rotation finishes an erasure cut short between its two steps (recorded,
// key not shredded yet) by shredding, not re-wrapping.
func TestARotationFinishesAnErasureCutShort(t *testing.T) {
	c, _ := storetest.Embedded(t)
	ring := newRing(t)
	issue(t, alerts.KeyVault{Store: c, Keys: ring}, "gone")
	reg, _ := alerts.Registry()
	md := events.NewMetadata("erase-gone", registrar, keysDomain, time.Now())
	md.EventID = command.EventID(resident.StreamID("gone"), registrar.Subject, "erase-gone", 0).String()
	env, err := reg.Encode(context.Background(), resident.ResidentErased{By: registrar.Subject, At: time.Now()}, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(context.Background(), resident.StreamID("gone"), store.Any(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
	rotated, _ := ring.Rotated()
	res, err := (alerts.KeyVault{Store: c, Keys: rotated}).RewrapAll(context.Background(), "rot", time.Now())
	if err != nil || res.Shredded != 1 || res.Rewrapped != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if recs := keyEvents(t, c); len(recs) != 0 {
		t.Errorf("the erased resident's key is still in $all: %s", recs[0].StreamID)
	}
}

// The KEK file is made 0600 in a 0700 directory, and refused once others may
// read it; processes starting together agree on one file.
func TestAKEKFileOthersMayReadIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "resident.kek")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	created := make([]bool, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ring, c, err := alerts.LoadOrCreateKEKFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], created[i] = ring.Current(), c
		}()
	}
	wg.Wait()
	made := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("processes starting together got KEKs %v", ids)
		}
		if created[i] {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d processes made the file, want 1", made)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("made with mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("its directory has mode %04o, want 0700", di.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files (temporary ones left?)", len(entries))
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o606} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := alerts.LoadKEKFile(path); err == nil {
			t.Errorf("mode %04o accepted", mode)
		}
		if _, _, err := alerts.LoadOrCreateKEKFile(path); err == nil {
			t.Errorf("mode %04o accepted at start", mode)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if ring, err := alerts.LoadKEKFile(path); err != nil || ring.Current() != ids[0] {
		t.Errorf("mode 0400: %v", err)
	}
}

// A rotation cut short after writing the new generation and before tombstoning
// the old leaves two live generations: the key still reads, and the next
// rotation run tombstones the old one without writing a third.
func TestARotationCutShortIsFinishedByTheNextRun(t *testing.T) {
	c, _ := storetest.Embedded(t)
	old := newRing(t)
	key := issue(t, alerts.KeyVault{Store: c, Keys: old}, "half")
	rotated, _ := old.Rotated()
	wrapped, kekID, err := rotated.Wrap("half", key)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := resident.KeyRegistry()
	stream := resident.KeyStreamGen("half", 1)
	md := events.NewMetadata("rot", alerts.KeysActor, keysDomain, time.Now())
	md.EventID = command.EventID(stream, alerts.KeysActor.Subject, "rot", 0).String()
	env, err := reg.Encode(context.Background(), resident.ResidentKeyWrapped{ResidentID: "half", KEKID: kekID, Wrapped: wrapped}, md)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(context.Background(), stream, store.NoStream(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
	v := alerts.KeyVault{Store: c, Keys: rotated}
	if got, err := v.Get(context.Background(), "half"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("mid-rotation: %v", err)
	}
	res, err := v.RewrapAll(context.Background(), "rot", time.Now())
	if err != nil || res.Current != 1 || res.Rewrapped != 0 {
		t.Fatalf("finishing: %+v %v", res, err)
	}
	if _, err := c.ReadStream(context.Background(), resident.KeyStreamGen("half", 0), store.Start, store.Forwards, 1); !errors.Is(err, store.ErrStreamDeleted) {
		t.Errorf("the old generation after finishing: %v, want deleted", err)
	}
	if got, err := (alerts.KeyVault{Store: c, Keys: rotated.Retired()}).Get(context.Background(), "half"); err != nil || !bytes.Equal(got, key) {
		t.Errorf("after finishing, with the new KEK alone: %v", err)
	}
}
