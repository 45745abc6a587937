package identity

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyCreatesAnOwnerOnlyKeyAndKeepsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // not there yet
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	again, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(again) {
		t.Fatal("a second load returned another key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only the key", len(entries))
	}
}

func TestLoadOrCreateKeyGivesConcurrentStartsTheSameKey(t *testing.T) {
	dir := t.TempDir()
	keys := make([]ed25519.PrivateKey, 16)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("two processes starting together got different keys")
		}
	}
}

func TestLoadOrCreateKeyRefusesAKeyOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateKey(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Fatal("a world-readable key was accepted")
	}
}

func TestLoadOrCreateKeyRefusesAFileThatIsNoKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Fatal("garbage accepted as a key")
	}
	// And it is not silently replaced by a new key either.
	raw, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if string(raw) != "not a key\n" {
		t.Fatal("the unreadable key file was overwritten")
	}
}
