package resident

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
)

// KeySize is the size of a resident's key: AES-256.
const KeySize = 32

// NewKey returns a fresh random key for one resident. It reaches the log only
// wrapped under a key-encryption key (KeyWrapper, kek.go).
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("resident: new key: %w", err)
	}
	return key, nil
}

// Seal encrypts c with the resident's key (AES-256-GCM, a random nonce in
// front). The resident's id is authenticated with it, so a sealed blob copied
// into another resident's event does not open.
func Seal(key []byte, residentID string, c Contact) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("resident: seal: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("resident: seal: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(residentID)), nil
}

// Open decrypts what Seal sealed for the same resident with the same key.
// Without a key (erased) it is ErrErased; with another key, or another
// resident's blob, ErrUnreadable.
func Open(key []byte, residentID string, sealed []byte) (Contact, error) {
	aead, err := gcm(key)
	if err != nil {
		return Contact{}, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return Contact{}, ErrUnreadable
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(residentID))
	if err != nil {
		return Contact{}, ErrUnreadable
	}
	var c Contact
	if err := json.Unmarshal(plain, &c); err != nil {
		return Contact{}, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	return c, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	switch len(key) {
	case 0:
		return nil, ErrErased
	case KeySize:
	default:
		return nil, fmt.Errorf("resident: key of %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.Join(errors.New("resident: key"), err)
	}
	return cipher.NewGCM(block)
}
