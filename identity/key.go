package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the signing key in the data directory: an Ed25519
// private key, PKCS#8 in PEM, readable by its owner only.
const KeyFile = "identity-ed25519.pem"

const pemType = "PRIVATE KEY"

// LoadOrCreateKey returns the signing key kept in dir, creating dir (0700)
// and the key (0600) on first use. Creation is atomic: the key is written
// whole to a temporary file and then linked into place, so two processes
// starting together on one data directory end up with the same key and a
// crash never leaves half a key. A key file readable by group or others is
// refused, as ssh refuses one.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: key directory: %w", err)
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("identity: encode key: %w", err)
	}
	if err := createExclusive(dir, path, pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first: use theirs
			return readKey(path)
		}
		return nil, err
	}
	return key, nil
}

// createExclusive writes data to path unless path exists: to a temporary file
// (created 0600) first, synced, then hard-linked to path, which fails rather
// than replace a key another process linked first.
func createExclusive(dir, path string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".identity-*.tmp")
	if err != nil {
		return fmt.Errorf("identity: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("identity: write key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("identity: write key: %w", err)
	}
	// The link is durable once the directory is.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func readKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("identity: key file %s is readable by others (mode %04o): chmod 600 it", path, perm)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("identity: key file: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != pemType {
		return nil, fmt.Errorf("identity: key file %s: not a PEM %q block", path, pemType)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity: key file %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("identity: key file %s: not an Ed25519 key", path)
	}
	return key, nil
}
