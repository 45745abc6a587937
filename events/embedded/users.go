package embedded

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// UsersFile is the name of the users file in the store's directory (DIR/eventstore).
const UsersFile = "users.json"

// AdminPasswordFile is where a secure store's first start writes the password it
// generated for AdminUser (mode 0600).
const AdminPasswordFile = "admin.password"

// The key derivation of the users file: PBKDF2-HMAC-SHA256 (the standard library's
// crypto/pbkdf2; EventStoreDB hashes its users' passwords with PBKDF2 too, Rfc2898),
// with OWASP's 2023 iteration count for it. A check costs ~0.1–0.3 s of CPU, once per
// (user, password) and process: Users caches successes.
const (
	kdfName       = "pbkdf2-sha256"
	kdfIterations = 600_000
	kdfKeyLen     = 32
)

// UserRecord is one user of the users file: a salted password hash, never the password.
type UserRecord struct {
	Name       string `json:"name"`
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
	Hash       []byte `json:"hash"`
	// Groups are the user's roles besides its name, as in the server's user records:
	// `$admins` passes every access check (AdminUser always does), others are named by
	// stream ACLs and policies.
	Groups []string `json:"groups,omitempty"`
}

// UserList is the content of the users file.
type UserList struct {
	Users []UserRecord `json:"users"`
}

// ReadUserList reads a users file; a missing file is an empty list (and os.ErrNotExist
// in the error, for callers that care).
func ReadUserList(path string) (*UserList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return &UserList{}, err
	}
	var l UserList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("embedded: users file %s: %w", path, err)
	}
	for _, u := range l.Users {
		if u.Name == "" || u.KDF != kdfName || u.Iterations < 1 || len(u.Salt) < 16 || len(u.Hash) != kdfKeyLen {
			return nil, fmt.Errorf("embedded: users file %s: malformed entry %q", path, u.Name)
		}
	}
	return &l, nil
}

// Has reports whether name is a user.
func (l *UserList) Has(name string) bool { return l.find(name) >= 0 }

func (l *UserList) find(name string) int {
	for i, u := range l.Users {
		if u.Name == name {
			return i
		}
	}
	return -1
}

// Set adds name with password, or replaces its password.
func (l *UserList) Set(name, password string) error {
	if err := validUserName(name); err != nil {
		return err
	}
	if password == "" {
		return errors.New("embedded: empty password")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	hash, err := pbkdf2.Key(sha256.New, password, salt, kdfIterations, kdfKeyLen)
	if err != nil {
		return err
	}
	rec := UserRecord{Name: name, KDF: kdfName, Iterations: kdfIterations, Salt: salt, Hash: hash}
	if i := l.find(name); i >= 0 {
		rec.Groups = l.Users[i].Groups // a new password keeps the user's groups
		l.Users[i] = rec
	} else {
		l.Users = append(l.Users, rec)
		sort.Slice(l.Users, func(i, j int) bool { return l.Users[i].Name < l.Users[j].Name })
	}
	return nil
}

// Remove removes name; it refuses to remove the last user (a secure store without
// users could never be reached again).
func (l *UserList) Remove(name string) error {
	i := l.find(name)
	if i < 0 {
		return fmt.Errorf("embedded: no user %q", name)
	}
	if len(l.Users) == 1 {
		return fmt.Errorf("embedded: %q is the last user: add another one first", name)
	}
	l.Users = append(l.Users[:i], l.Users[i+1:]...)
	return nil
}

// Write replaces the users file at path atomically (a temporary file of mode 0600
// beside it, fsync'd, renamed into place), so a serving store never reads half a file.
func (l *UserList) Write(path string) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func validUserName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("embedded: user name %q: 1 to 64 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("embedded: user name %q: letters, digits, '-', '_' and '.' only", name)
		}
	}
	return nil
}

// Users checks credentials against a users file, for ListenConfig.Users. It re-reads
// the file when it changes (looked at, at most once a second, by the calls
// themselves), so `vigie eventstore user add|passwd|remove` take effect on a serving
// store within a second. A successful check is cached in memory under the SHA-256 of
// the (user, password) pair, so that only a pair's first call pays the key derivation;
// the cache is dropped whenever the file changes.
type Users struct {
	path string

	mu      sync.RWMutex
	list    *UserList
	stamp   fileStamp
	ok      map[[32]byte]bool
	checked atomic.Int64 // unix nanoseconds of the last look at the file

	derive chan struct{} // one key derivation at a time: guessing costs the guesser time, not the server all its CPU
}

type fileStamp struct {
	mod  time.Time
	size int64
	fi   os.FileInfo
}

func (a fileStamp) same(b fileStamp) bool {
	return a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi) && a.mod.Equal(b.mod) && a.size == b.size
}

// LoadUsers reads the users file at path; it must exist and name at least one user.
func LoadUsers(path string) (*Users, error) {
	u := &Users{path: path, derive: make(chan struct{}, 1)}
	if err := u.reload(); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *Users) reload() error {
	fi, err := os.Stat(u.path)
	if err != nil {
		return fmt.Errorf("embedded: users file: %w", err)
	}
	stamp := fileStamp{mod: fi.ModTime(), size: fi.Size(), fi: fi}
	u.mu.RLock()
	same := stamp.same(u.stamp)
	u.mu.RUnlock()
	if same {
		return nil
	}
	l, err := ReadUserList(u.path)
	if err != nil {
		return err
	}
	if len(l.Users) == 0 {
		return fmt.Errorf("embedded: users file %s names no user", u.path)
	}
	u.mu.Lock()
	u.list, u.stamp, u.ok = l, stamp, map[[32]byte]bool{}
	u.mu.Unlock()
	return nil
}

// refresh re-reads the file if it changed, at most once a second; a file that became
// unreadable or malformed keeps the users last read (and says nothing: the commands
// that write it check it first).
func (u *Users) refresh() {
	now := time.Now().UnixNano()
	last := u.checked.Load()
	if now-last < int64(time.Second) || !u.checked.CompareAndSwap(last, now) {
		return
	}
	_ = u.reload()
}

// Check reports whether password is user's.
func (u *Users) Check(user, password string) bool {
	_, ok := u.Login(user, password)
	return ok
}

// Login checks password and returns the user, with its groups.
func (u *Users) Login(user, password string) (*Principal, bool) {
	u.refresh()
	key := pairKey(user, password)
	u.mu.RLock()
	list, cached := u.list, u.ok[key]
	u.mu.RUnlock()
	i := list.find(user)
	if cached && i >= 0 {
		return list.principal(i), true
	}
	rec, known := UserRecord{Salt: make([]byte, 16), Hash: make([]byte, kdfKeyLen), Iterations: kdfIterations}, false
	if i >= 0 {
		rec, known = list.Users[i], true
	}
	// An unknown user costs the same derivation: the answer's time does not tell which
	// names exist.
	u.derive <- struct{}{}
	hash, err := pbkdf2.Key(sha256.New, password, rec.Salt, rec.Iterations, len(rec.Hash))
	<-u.derive
	if err != nil || subtle.ConstantTimeCompare(hash, rec.Hash) != 1 || !known {
		return nil, false
	}
	u.mu.Lock()
	if u.list == list { // not if the file changed meanwhile
		u.ok[key] = true
	}
	u.mu.Unlock()
	return list.principal(i), true
}

func (l *UserList) principal(i int) *Principal {
	return &Principal{Name: l.Users[i].Name, Groups: slices.Clone(l.Users[i].Groups)}
}

// SetGroups replaces the groups of user name.
func (l *UserList) SetGroups(name string, groups []string) error {
	i := l.find(name)
	if i < 0 {
		return fmt.Errorf("embedded: no user %q", name)
	}
	for _, g := range groups {
		if g != roleAdmins && g != roleAll {
			if err := validUserName(g); err != nil {
				return fmt.Errorf("embedded: group %q: letters, digits, '-', '_' and '.' only, or $admins", g)
			}
		}
	}
	l.Users[i].Groups = slices.Clone(groups)
	return nil
}

// pairKey is unambiguous: the user name cannot hold a NUL.
func pairKey(user, password string) [32]byte {
	return sha256.Sum256([]byte(user + "\x00" + password))
}

// EnsureUsers makes, in storeDir, the users file of a secure store if there is none:
// user AdminUser with a generated password, written to storeDir/admin.password (0600).
// It returns the path of that file when it made it (the caller says so, once), "" when
// the users file already existed.
func EnsureUsers(storeDir string) (passwordFile string, err error) {
	usersPath := filepath.Join(storeDir, UsersFile)
	if _, err := os.Stat(usersPath); err == nil {
		return "", nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return "", err
	}
	pw, err := NewPassword()
	if err != nil {
		return "", err
	}
	var l UserList
	if err := l.Set(AdminUser, pw); err != nil {
		return "", err
	}
	passwordFile = filepath.Join(storeDir, AdminPasswordFile)
	// The password first: a crash between the two leaves no users file, so the next
	// start makes both again rather than a users file whose password nobody has.
	if err := writeFileAtomic(passwordFile, []byte(pw+"\n")); err != nil {
		return "", err
	}
	if err := l.Write(usersPath); err != nil {
		return "", err
	}
	return passwordFile, nil
}
