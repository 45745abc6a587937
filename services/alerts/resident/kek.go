package resident

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"vigie/events"
)

// Residents' keys are never written in clear: each is wrapped under a
// key-encryption key (KEK) that lives outside the log and its backups (a file
// by default, a KMS could hold it), so that a copy of the log, or of a backup,
// opens no contact detail. The log says which KEK wrapped each key, so that a
// rotation can re-wrap the keys under a new one and the old one can go.

// KeyWrapper wraps and unwraps residents' keys under a key-encryption key. The
// resident's id is bound to the wrapped key (additional data): a wrapped key
// copied into another resident's stream does not unwrap. Keyring implements it
// with keys held in memory; a KMS client could too.
type KeyWrapper interface {
	// Wrap wraps key under the current KEK and says which one.
	Wrap(residentID string, key []byte) (wrapped []byte, kekID string, err error)
	// Unwrap opens what the KEK kekID wrapped for residentID: ErrUnknownKEK when
	// that KEK is not held, ErrUnreadable when it does not open.
	Unwrap(residentID string, wrapped []byte, kekID string) ([]byte, error)
}

// ErrUnknownKEK: a key was wrapped under a KEK this process does not hold (the
// KEK file of another installation, or one retired too early).
var ErrUnknownKEK = errors.New("resident: key wrapped under a key-encryption key not held here")

// KeyRegistry returns a registry of the key streams' events, for the only two
// readers of those streams (the key vault and the dispatcher) when the
// registry they were given does not know ResidentKeyWrapped. Projections and
// tools that read $all never decode a key.
func KeyRegistry() (*events.Registry, error) {
	r := events.NewRegistry()
	if err := errors.Join(events.Register[ResidentKeyIssued](r, 1), events.Register[ResidentKeyWrapped](r, 1)); err != nil {
		return nil, err
	}
	return r, nil
}

// OpenKey returns the resident's key a key event holds: unwrapped with w for
// ResidentKeyWrapped, as written for the older ResidentKeyIssued (kekID is
// then empty: the key was in clear).
func OpenKey(w KeyWrapper, e events.Event) (residentID string, key []byte, kekID string, err error) {
	switch k := e.(type) {
	case ResidentKeyIssued:
		if len(k.Key) != KeySize {
			return k.ResidentID, nil, "", fmt.Errorf("resident: key of %d bytes, want %d", len(k.Key), KeySize)
		}
		return k.ResidentID, k.Key, "", nil
	case ResidentKeyWrapped:
		key, err := w.Unwrap(k.ResidentID, k.Wrapped, k.KEKID)
		if err == nil && len(key) != KeySize {
			err = fmt.Errorf("resident: unwrapped key of %d bytes, want %d", len(key), KeySize)
		}
		return k.ResidentID, key, k.KEKID, err
	}
	return "", nil, "", fmt.Errorf("resident: %s holds no key", e.EventType())
}

// KeyStreamGen is the stream of the resident's key at generation gen. A key
// event cannot be taken out of a stream, only the whole stream with a
// tombstone (which the embedded store erases physically, and a scavenge on
// EventStoreDB): so a rotation writes the re-wrapped key in the next
// generation's stream, then tombstones the earlier one. Generation 0 is
// KeyStreamID; the later ones add " gen<N>", a space no resident id holds
// (Registration refuses it), so no two residents' streams ever share a name.
// All are of KeyCategory.
func KeyStreamGen(residentID string, gen int) string {
	if gen == 0 {
		return KeyStreamID(residentID)
	}
	return KeyStreamID(residentID) + " gen" + strconv.Itoa(gen)
}

// ResidentOfKeyStream returns the resident id of a key stream of any
// generation; ok is false for another stream.
func ResidentOfKeyStream(stream string) (residentID string, ok bool) {
	id, ok := strings.CutPrefix(stream, KeyCategory+"-")
	if !ok || id == "" {
		return "", false
	}
	if base, gen, cut := strings.Cut(id, " gen"); cut {
		if n, err := strconv.Atoi(gen); err != nil || n < 1 {
			return "", false
		}
		id = base
	}
	return id, true
}

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// Keyring is a KeyWrapper over KEKs held in memory: the current one wraps,
// every one it holds unwraps. During a rotation it holds the previous KEKs
// besides the new current one, until every key is re-wrapped. Wrapping is
// AES-256-GCM with a random nonce (nonce ‖ ciphertext ‖ tag) and the
// resident's id as additional data.
type Keyring struct {
	current  kek
	previous []kek
}

type kek struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

// KEKID names a KEK without revealing it: a fingerprint (SHA-256 of a fixed
// label and the key, first 8 bytes). The same KEK has the same id wherever it
// is, so a key event says which file opens it.
func KEKID(raw []byte) string {
	h := sha256.Sum256(append([]byte("vigie resident kek id\x00"), raw...))
	return "kek-" + hex.EncodeToString(h[:8])
}

func newKEK(raw []byte) (kek, error) {
	if len(raw) != KEKSize {
		return kek{}, fmt.Errorf("resident: key-encryption key of %d bytes, want %d", len(raw), KEKSize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return kek{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return kek{}, err
	}
	return kek{id: KEKID(raw), raw: bytes.Clone(raw), aead: aead}, nil
}

func randomKEK() (kek, error) {
	raw := make([]byte, KEKSize)
	if _, err := rand.Read(raw); err != nil {
		return kek{}, fmt.Errorf("resident: new key-encryption key: %w", err)
	}
	return newKEK(raw)
}

// NewKeyring returns a keyring holding one fresh random KEK.
func NewKeyring() (*Keyring, error) {
	k, err := randomKEK()
	if err != nil {
		return nil, err
	}
	return &Keyring{current: k}, nil
}

var ephemeral struct {
	once sync.Once
	ring *Keyring
	err  error
}

// EphemeralKeyring is the KEK of a process given none (tests, the service
// embedded without configuration): made at first use and kept in memory only,
// it is the same for every vault and dispatcher of the process. Keys wrapped
// under it are never in clear anywhere, and nothing outside the process can
// unwrap them: `vigie serve` and `vigie serve alerts` always give their own.
func EphemeralKeyring() (*Keyring, error) {
	ephemeral.once.Do(func() { ephemeral.ring, ephemeral.err = NewKeyring() })
	return ephemeral.ring, ephemeral.err
}

// Current is the id of the KEK that wraps.
func (r *Keyring) Current() string { return r.current.id }

// IDs lists the ids of the KEKs held, the current one first.
func (r *Keyring) IDs() []string {
	out := []string{r.current.id}
	for _, k := range r.previous {
		out = append(out, k.id)
	}
	return out
}

// Previous lists the ids of the KEKs kept only to unwrap (a rotation not
// finished yet).
func (r *Keyring) Previous() []string { return r.IDs()[1:] }

// Rotated returns a keyring with a fresh current KEK that keeps every KEK of r
// to unwrap.
func (r *Keyring) Rotated() (*Keyring, error) {
	k, err := randomKEK()
	if err != nil {
		return nil, err
	}
	return &Keyring{current: k, previous: append([]kek{r.current}, r.previous...)}, nil
}

// Retired returns a keyring with r's current KEK alone: what is left once
// every key is wrapped under it.
func (r *Keyring) Retired() *Keyring { return &Keyring{current: r.current} }

func (r *Keyring) Wrap(residentID string, key []byte) ([]byte, string, error) {
	if len(key) != KeySize {
		return nil, "", fmt.Errorf("resident: wrap a key of %d bytes, want %d", len(key), KeySize)
	}
	a := r.current.aead
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(key)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("resident: wrap: %w", err)
	}
	return a.Seal(nonce, nonce, key, []byte(residentID)), r.current.id, nil
}

func (r *Keyring) Unwrap(residentID string, wrapped []byte, kekID string) ([]byte, error) {
	k, ok := r.find(kekID)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKEK, kekID)
	}
	n := k.aead.NonceSize()
	if len(wrapped) < n+k.aead.Overhead() {
		return nil, ErrUnreadable
	}
	key, err := k.aead.Open(nil, wrapped[:n], wrapped[n:], []byte(residentID))
	if err != nil {
		return nil, ErrUnreadable
	}
	return key, nil
}

func (r *Keyring) find(id string) (kek, bool) {
	if id == r.current.id {
		return r.current, true
	}
	i := slices.IndexFunc(r.previous, func(k kek) bool { return k.id == id })
	if i < 0 {
		return kek{}, false
	}
	return r.previous[i], true
}

// KEKFileMagic is the first line of a keyring file. The embedded store's
// backups refuse any file that starts with it (events/embedded/backup.go
// holds the same string: that module cannot import this one).
const KEKFileMagic = "vigie-resident-kek 1"

// Marshal is the keyring as its file holds it:
//
//	vigie-resident-kek 1
//	current kek-<fingerprint> <base64 of the 32 bytes>
//	previous kek-<fingerprint> <base64>      (during a rotation only)
func (r *Keyring) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(KEKFileMagic + "\n")
	b.WriteString("# Vigie: key-encryption keys of the residents' keys. Never put this file beside\n")
	b.WriteString("# the log or in its backups; back it up apart (README, \"Residents' keys\").\n")
	fmt.Fprintf(&b, "current %s %s\n", r.current.id, base64.StdEncoding.EncodeToString(r.current.raw))
	for _, k := range r.previous {
		fmt.Fprintf(&b, "previous %s %s\n", k.id, base64.StdEncoding.EncodeToString(k.raw))
	}
	return b.Bytes()
}

// ParseKeyring reads what Marshal writes, or a file holding only the base64 of
// 32 random bytes (what `head -c 32 /dev/urandom | base64` makes, or a secret
// manager holds): then that is the current KEK. Blank lines and lines starting
// with '#' are skipped. Each id is checked against its key, so a damaged file
// is refused rather than wrapping under a key nobody can name.
func ParseKeyring(data []byte) (*Keyring, error) {
	var lines []string
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("resident: key-encryption key file: %w", err)
	}
	bad := func(format string, args ...any) (*Keyring, error) {
		return nil, fmt.Errorf("resident: key-encryption key file: "+format, args...)
	}
	if len(lines) == 1 && lines[0] != KEKFileMagic {
		raw, err := base64.StdEncoding.DecodeString(lines[0])
		if err != nil || len(raw) != KEKSize {
			return bad("one line that is not the base64 of %d bytes", KEKSize)
		}
		k, err := newKEK(raw)
		if err != nil {
			return nil, err
		}
		return &Keyring{current: k}, nil
	}
	if len(lines) == 0 || lines[0] != KEKFileMagic {
		return bad("does not start with %q", KEKFileMagic)
	}
	var r Keyring
	seen := map[string]bool{}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 3 || (f[0] != "current" && f[0] != "previous") {
			return bad("line %d: want \"current|previous ID BASE64\"", i+2)
		}
		raw, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil {
			return bad("line %d: the key is not base64", i+2)
		}
		k, err := newKEK(raw)
		if err != nil {
			return bad("line %d: %v", i+2, err)
		}
		if k.id != f[1] {
			return bad("line %d: the key is not %s (damaged file?)", i+2, f[1])
		}
		if seen[k.id] {
			return bad("line %d: %s twice", i+2, k.id)
		}
		seen[k.id] = true
		if f[0] == "current" {
			if r.current.id != "" {
				return bad("two current keys")
			}
			r.current = k
		} else {
			r.previous = append(r.previous, k)
		}
	}
	if r.current.id == "" {
		return bad("no current key")
	}
	return &r, nil
}
