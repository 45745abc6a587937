package embedded

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A backup is a tar archive (gzip'd or not: restore tells by the first bytes) of a
// checkpoint of the log:
//
//	VIGIE-BACKUP        the magic: "Vigie event store backup\nformat 1\n"
//	eventstore/NAME     every file of the checkpoint
//	MANIFEST.json       format, creation time, head, event count, each file's size and SHA-256
//	TRAILER             "sha256 HEX\n": SHA-256 of every byte of the tar before it
//
// The manifest comes after the files so that a backup is written in one pass; it is
// padded to whole tar blocks, so the trailer's digest covers the archive byte for byte
// (headers and padding included) up to the trailer's own header. Restore checks all of
// it, then opens the extracted log and checks its head and event count against the
// manifest, before anything is moved into place.

// BackupFormat is the version of the archive layout this package writes and reads.
const BackupFormat = 1

const (
	backupMagicName = "VIGIE-BACKUP"
	backupMagic     = "Vigie event store backup\nformat 1\n"
	manifestName    = "MANIFEST.json"
	trailerName     = "TRAILER"
	backupStoreDir  = "eventstore/"

	// keyFileMagic starts the residents' key-encryption key file
	// (services/alerts/resident.KEKFileMagic; this module cannot import it). That
	// key must never be in a backup: a backup and its KEK together open every
	// resident's contact details. It lives outside the event store's directory,
	// and WriteBackup refuses a file that starts so, wherever someone put it.
	keyFileMagic = "vigie-resident-kek 1"
)

// Errors of a backup file that restore refuses; each is wrapped with what was found.
var (
	ErrNotBackup       = errors.New("not a Vigie backup")
	ErrCorruptBackup   = errors.New("corrupt backup")
	ErrTruncatedBackup = errors.New("truncated backup")
)

// Manifest describes a backup.
type Manifest struct {
	Format    int            `json:"format"`
	CreatedAt time.Time      `json:"createdAt"`
	Head      uint64         `json:"head"`   // position of the last event (0: empty log)
	Events    uint64         `json:"events"` // events in the log (tombstones erase some)
	Files     []ManifestFile `json:"files"`
}

// ManifestFile is one file of the checkpoint.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Snapshot writes a consistent checkpoint of the log in storeDir into dest (absolute,
// not existing). A running store is asked through its admin socket, and keeps serving
// appends meanwhile; when none answers, the log is opened here (which fails if some
// process holds it without answering). online says which happened.
func Snapshot(ctx context.Context, storeDir, dest string) (online bool, err error) {
	err = RequestCheckpoint(ctx, storeDir, dest)
	if !errors.Is(err, ErrNoServer) {
		return true, err
	}
	entries, err := os.ReadDir(storeDir)
	if err != nil || len(entries) == 0 {
		return false, fmt.Errorf("embedded: no event store in %s", storeDir)
	}
	st, err := Open(Config{Dir: storeDir, NoAdminSocket: true})
	if err != nil {
		return false, fmt.Errorf("%w: no process answers on %s, and the log cannot be opened (is it served by a process without the admin socket? stop it to back up)", err, filepath.Join(storeDir, AdminSocket))
	}
	defer st.Close()
	return false, st.Checkpoint(dest)
}

// LogStats opens the log in dir read-only and returns its head and event count.
func LogStats(dir string) (head, events uint64, err error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: quietLogger{}})
	if err != nil {
		return 0, 0, fmt.Errorf("embedded: open %s: %w", dir, err)
	}
	defer db.Close()
	if head, err = lastPosition(db); err != nil {
		return 0, 0, err
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		return 0, 0, err
	}
	for valid := it.First(); valid; valid = it.Next() {
		events++
	}
	return head, events, errors.Join(it.Error(), it.Close())
}

// WriteBackup writes the checkpoint in dir as a backup archive to w.
func WriteBackup(w io.Writer, dir string, compress bool, createdAt time.Time) (Manifest, error) {
	m := Manifest{Format: BackupFormat, CreatedAt: createdAt.UTC()}
	var err error
	if m.Head, m.Events, err = LogStats(dir); err != nil {
		return m, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m, err
	}
	out := w
	var zw *gzip.Writer
	if compress {
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = zw
	}
	sum := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(out, sum))
	put := func(name string, size int64, r io.Reader) (string, error) {
		hdr := &tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: m.CreatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", err
		}
		h := sha256.New()
		n, err := io.Copy(tw, io.TeeReader(r, h))
		if err == nil && n != size {
			err = fmt.Errorf("%s: %d bytes, expected %d", name, n, size)
		}
		return hex.EncodeToString(h.Sum(nil)), err
	}
	if _, err := put(backupMagicName, int64(len(backupMagic)), strings.NewReader(backupMagic)); err != nil {
		return m, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return m, fmt.Errorf("embedded: checkpoint holds %s, not a regular file", e.Name())
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return m, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return m, err
		}
		if err := refuseKeyFile(f, e.Name()); err != nil {
			f.Close()
			return m, err
		}
		digest, err := put(backupStoreDir+e.Name(), fi.Size(), f)
		f.Close()
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, ManifestFile{Name: e.Name(), Size: fi.Size(), SHA256: digest})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	// Padded to whole blocks: the manifest's data then ends exactly where the trailer's
	// header starts, which is where restore takes its digest.
	mb = append(mb, '\n')
	mb = append(mb, bytes.Repeat([]byte{' '}, (512-len(mb)%512)%512)...)
	if _, err := put(manifestName, int64(len(mb)), bytes.NewReader(mb)); err != nil {
		return m, err
	}
	if err := tw.Flush(); err != nil {
		return m, err
	}
	trailer := "sha256 " + hex.EncodeToString(sum.Sum(nil)) + "\n"
	if _, err := put(trailerName, int64(len(trailer)), strings.NewReader(trailer)); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return m, err
		}
	}
	return m, nil
}

// refuseKeyFile fails if f starts as a key-encryption key file does, and
// leaves f at its start.
func refuseKeyFile(f *os.File, name string) error {
	head := make([]byte, len(keyFileMagic))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if string(head[:n]) == keyFileMagic {
		return fmt.Errorf("embedded: %s is a key-encryption key file: it never goes into a backup (README: back it up apart)", name)
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// ExtractBackup reads a backup archive from r into dir (created; must not exist) and
// verifies it whole: the magic, every file against the manifest (none missing, none
// extra), the trailer's digest of the archive, the end of the archive, and the
// extracted log's head and event count against the manifest. Files and dir are
// fsync'd. On error, dir may hold part of the files: the caller removes it.
func ExtractBackup(r io.Reader, dir string) (Manifest, error) {
	var m Manifest
	br := bufio.NewReaderSize(r, 1<<20)
	in := io.Reader(br)
	if b, _ := br.Peek(2); len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return m, fmt.Errorf("%w: %v", ErrNotBackup, err)
		}
		defer zr.Close()
		in = zr
	}
	sum := sha256.New()
	tr := tar.NewReader(io.TeeReader(in, sum))

	hdr, err := tr.Next()
	if err != nil || hdr.Name != backupMagicName || hdr.Size != int64(len(backupMagic)) {
		return m, fmt.Errorf("%w: it does not start with the %s header", ErrNotBackup, backupMagicName)
	}
	if b, err := io.ReadAll(tr); err != nil || string(b) != backupMagic {
		if err == nil && strings.HasPrefix(string(b), "Vigie event store backup\n") {
			return m, fmt.Errorf("%w: format %q, this vigie reads format %d", ErrNotBackup, strings.TrimPrefix(string(b), "Vigie event store backup\n"), BackupFormat)
		}
		return m, fmt.Errorf("%w: bad %s header", ErrNotBackup, backupMagicName)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		return m, err
	}
	got := map[string]ManifestFile{}
	var manifestRaw []byte
	var digest hash.Hash
	for {
		hdr, err := tr.Next()
		if err != nil {
			return m, readError(err, "before its manifest and trailer")
		}
		if hdr.Name == manifestName {
			if manifestRaw, err = readAllMax(tr, hdr.Size, 16<<20); err != nil {
				return m, readError(err, "in its manifest")
			}
			digest = cloneHash(sum)
			break
		}
		name, ok := strings.CutPrefix(hdr.Name, backupStoreDir)
		if !ok || hdr.Typeflag != tar.TypeReg || name == "" || name != filepath.Base(name) || name == "." || name == ".." {
			return m, fmt.Errorf("%w: unexpected entry %q", ErrCorruptBackup, hdr.Name)
		}
		if _, dup := got[name]; dup {
			return m, fmt.Errorf("%w: %q appears twice", ErrCorruptBackup, hdr.Name)
		}
		f, err := extractFile(tr, filepath.Join(dir, name))
		if err != nil {
			return m, readError(err, "in "+hdr.Name)
		}
		got[name] = f
	}
	hdr, err = tr.Next()
	if err != nil {
		return m, readError(err, "before its trailer")
	}
	if hdr.Name != trailerName {
		return m, fmt.Errorf("%w: %q after the manifest, expected %s", ErrCorruptBackup, hdr.Name, trailerName)
	}
	trailer, err := readAllMax(tr, hdr.Size, 1024)
	if err != nil {
		return m, readError(err, "in its trailer")
	}
	if want := "sha256 " + hex.EncodeToString(digest.Sum(nil)) + "\n"; string(trailer) != want {
		return m, fmt.Errorf("%w: the archive's SHA-256 differs from its trailer", ErrCorruptBackup)
	}
	if _, err := tr.Next(); err != io.EOF {
		return m, fmt.Errorf("%w: data after the trailer (%v)", ErrCorruptBackup, err)
	}
	// Read to the very end, so that gzip checks its own checksum and length. What
	// follows the archive's end may only be the zeros a tar writer pads its last
	// record with: anything else was appended to a verified archive.
	if nonZero, err := zerosToEnd(in); err != nil {
		return m, readError(err, "at its end")
	} else if nonZero {
		return m, fmt.Errorf("%w: data after the end of the archive", ErrCorruptBackup)
	}

	if err := json.Unmarshal(bytes.TrimRight(manifestRaw, " \n"), &m); err != nil {
		return m, fmt.Errorf("%w: manifest: %v", ErrCorruptBackup, err)
	}
	if m.Format != BackupFormat {
		return m, fmt.Errorf("%w: manifest format %d, this vigie reads format %d", ErrNotBackup, m.Format, BackupFormat)
	}
	if len(m.Files) != len(got) {
		return m, fmt.Errorf("%w: the manifest lists %d files, the archive holds %d", ErrCorruptBackup, len(m.Files), len(got))
	}
	for _, want := range m.Files {
		have, ok := got[want.Name]
		switch {
		case !ok:
			return m, fmt.Errorf("%w: %s is missing", ErrCorruptBackup, want.Name)
		case have.Size != want.Size:
			return m, fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrCorruptBackup, want.Name, have.Size, want.Size)
		case have.SHA256 != want.SHA256:
			return m, fmt.Errorf("%w: %s: SHA-256 differs from the manifest", ErrCorruptBackup, want.Name)
		}
	}
	if err := SyncDir(dir); err != nil {
		return m, err
	}
	head, events, err := LogStats(dir)
	if err != nil {
		return m, fmt.Errorf("%w: the restored log does not open: %v", ErrCorruptBackup, err)
	}
	if head != m.Head || events != m.Events {
		return m, fmt.Errorf("%w: the restored log has head %d and %d events, the manifest says head %d and %d events", ErrCorruptBackup, head, events, m.Head, m.Events)
	}
	return m, nil
}

// zerosToEnd reads r to its end and says whether any byte was not zero.
func zerosToEnd(r io.Reader) (nonZero bool, err error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				nonZero = true
			}
		}
		if err == io.EOF {
			return nonZero, nil
		}
		if err != nil {
			return nonZero, err
		}
	}
}

// readError names what went wrong reading the archive.
func readError(err error, where string) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the file ends %s", ErrTruncatedBackup, where)
	case errors.Is(err, tar.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("%w: %v %s", ErrCorruptBackup, err, where)
	case errors.Is(err, ErrCorruptBackup), errors.Is(err, ErrTruncatedBackup):
		return err
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return err // the target's file system, not the backup
	}
	return fmt.Errorf("%w: %v %s", ErrCorruptBackup, err, where)
}

func readAllMax(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%w: entry of %d bytes, at most %d expected", ErrCorruptBackup, size, limit)
	}
	b := make([]byte, size)
	_, err := io.ReadFull(r, b)
	return b, err
}

func extractFile(r io.Reader, path string) (ManifestFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return ManifestFile{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return ManifestFile{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// cloneHash copies a running SHA-256 (its state marshals), so the digest up to here
// can be taken while the archive is read further.
func cloneHash(h hash.Hash) hash.Hash {
	c := sha256.New()
	state, err := h.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
	if err == nil {
		err = c.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(state)
	}
	if err != nil {
		panic(err) // sha256's digest always marshals
	}
	return c
}

// SyncDir fsyncs a directory, so that the files created or renamed in it stay after a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// InUse reports, as an error, whether a process serves (or holds) the log in storeDir.
func InUse(ctx context.Context, storeDir string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	if conn, err := d.DialContext(ctx, "unix", filepath.Join(storeDir, AdminSocket)); err == nil {
		conn.Close()
		return fmt.Errorf("embedded: a running process serves the event store in %s", storeDir)
	}
	if _, err := os.Stat(storeDir); err != nil {
		return nil
	}
	lock, err := pebble.LockDirectory(storeDir, vfs.Default)
	if err != nil {
		return fmt.Errorf("embedded: the event store in %s is locked by another process: %w", storeDir, err)
	}
	return lock.Close()
}
