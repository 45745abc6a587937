package embedded

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A backup file is outside input: it comes back from a NAS or object storage, and
// `vigie restore` trusts what it extracts as the log. FuzzExtractBackup holds
// ExtractBackup to: never panic, never write outside the directory it is given, and
// never accept an archive unless it verifies. "Verifies" is checked here apart from
// ExtractBackup's own code, from the layout backup.go documents: the magic first,
// then the log's files, the manifest and the trailer, nothing after; the trailer is
// the SHA-256 of every byte of the tar before the trailer's header; the manifest
// lists exactly the files, with their sizes and digests; what lands on disk is those
// files, byte for byte; and the log they make has the manifest's head and count.

// fuzzBackups returns a small log's backup, plain and gzip'd.
func fuzzBackups(f *testing.F) (plain, gzipped []byte) {
	dir := f.TempDir()
	st, err := Open(Config{Dir: filepath.Join(dir, "log"), NoAdminSocket: true, CacheSize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 5 {
		res := st.write(&writeReq{op: opAppend, stream: "incident-" + strconv.Itoa(i%2), expect: expectation{kind: expectAny},
			events: []proposed{{ID: [16]byte{byte(i + 1)}, Type: "IncidentReported", ContentType: "application/json", Data: []byte(`{"title":"Crue"}`)}}})
		if res.err != nil || res.conflict {
			f.Fatalf("append %d: %v, conflict %v", i, res.err, res.conflict)
		}
	}
	ckpt := filepath.Join(dir, "checkpoint")
	if err := st.Checkpoint(ckpt); err != nil {
		f.Fatal(err)
	}
	if err := st.Close(); err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 9, 14, 4, 30, 0, 0, time.UTC)
	var p, g bytes.Buffer
	if _, err := WriteBackup(&p, ckpt, false, at); err != nil {
		f.Fatal(err)
	}
	if _, err := WriteBackup(&g, ckpt, true, at); err != nil {
		f.Fatal(err)
	}
	return p.Bytes(), g.Bytes()
}

func FuzzExtractBackup(f *testing.F) {
	plain, gzipped := fuzzBackups(f)
	if m, err := ExtractBackup(bytes.NewReader(plain), filepath.Join(f.TempDir(), "r")); err != nil || m.Events != 5 {
		f.Fatalf("the seed backup does not restore: %+v, %v", m, err)
	}
	f.Add(plain)
	f.Add(gzipped)
	f.Add(plain[:len(plain)/2])                                                     // truncated
	f.Add(append(bytes.Clone(plain), "after the end"...))                           // trailing bytes
	f.Add(bytes.Replace(plain, []byte("format 1"), []byte("format 2"), 1))          // another format
	f.Add(bytes.Replace(plain, []byte("eventstore/"), []byte("eventstore/../"), 1)) // a path out of the target
	f.Add(tarOf(f, map[string]string{backupMagicName: backupMagic, "eventstore/../../escape": "x"}))
	f.Add(tarOf(f, map[string]string{backupMagicName: backupMagic, manifestName: `{"format":1}`, trailerName: "sha256 00\n"}))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, archive []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "eventstore")
		m, err := ExtractBackup(bytes.NewReader(archive), dir)
		// Whatever happened, nothing was written beside the target.
		entries, rerr := os.ReadDir(parent)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range entries {
			if e.Name() != "eventstore" {
				t.Fatalf("ExtractBackup wrote %s outside its directory", e.Name())
			}
		}
		if err != nil {
			if !errors.Is(err, ErrNotBackup) && !errors.Is(err, ErrCorruptBackup) && !errors.Is(err, ErrTruncatedBackup) {
				t.Fatalf("refused without saying the backup is bad: %v", err)
			}
			return
		}
		want := verifyArchive(t, archive)
		if m.Head != want.Head || m.Events != want.Events || len(m.Files) != len(want.Files) {
			t.Fatalf("ExtractBackup returned manifest %+v, the archive's is %+v", m, want)
		}
		// On disk: exactly the manifest's files, byte for byte.
		onDisk, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(onDisk) != len(want.Files) {
			t.Fatalf("%d files restored, the manifest lists %d", len(onDisk), len(want.Files))
		}
		for _, mf := range want.Files {
			b, err := os.ReadFile(filepath.Join(dir, mf.Name))
			if err != nil {
				t.Fatalf("manifest file %s: %v", mf.Name, err)
			}
			if sum := sha256.Sum256(b); int64(len(b)) != mf.Size || hex.EncodeToString(sum[:]) != mf.SHA256 {
				t.Fatalf("restored %s differs from the manifest", mf.Name)
			}
		}
		head, events, err := LogStats(dir)
		if err != nil || head != want.Head || events != want.Events {
			t.Fatalf("the restored log has head %d and %d events (%v), the manifest says %d and %d", head, events, err, want.Head, want.Events)
		}
	})
}

// verifyArchive checks an accepted archive against the documented layout and
// returns its manifest; it fails t where the archive does not verify.
func verifyArchive(t *testing.T, archive []byte) Manifest {
	t.Helper()
	data := archive
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("accepted an archive whose gzip header is bad: %v", err)
		}
		if data, err = io.ReadAll(io.LimitReader(zr, 256<<20)); err != nil {
			t.Fatalf("accepted an archive that does not decompress: %v", err)
		}
	}
	// The tar, read with its offsets: the trailer's digest covers data[:signedEnd].
	counter := &countingReader{r: bytes.NewReader(data)}
	tr := tar.NewReader(counter)
	next := func(what string) (*tar.Header, []byte) {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("accepted an archive without %s: %v", what, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("accepted an archive whose %s does not read: %v", what, err)
		}
		return hdr, b
	}
	if hdr, b := next("its magic"); hdr.Name != backupMagicName || string(b) != backupMagic {
		t.Fatalf("accepted an archive that starts with %q: %q", hdr.Name, b)
	}
	files := map[string][32]byte{}
	sizes := map[string]int64{}
	var manifest []byte
	var signedEnd int64
	for {
		hdr, b := next("its manifest")
		if hdr.Name == manifestName {
			manifest, signedEnd = b, counter.n
			break
		}
		name, ok := strings.CutPrefix(hdr.Name, backupStoreDir)
		if !ok || hdr.Typeflag != tar.TypeReg || name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
			t.Fatalf("accepted an archive holding %q (type %c)", hdr.Name, hdr.Typeflag)
		}
		if _, dup := files[name]; dup {
			t.Fatalf("accepted an archive holding %q twice", hdr.Name)
		}
		files[name], sizes[name] = sha256.Sum256(b), int64(len(b))
	}
	hdr, trailer := next("its trailer")
	if sum := sha256.Sum256(data[:signedEnd]); hdr.Name != trailerName || string(trailer) != "sha256 "+hex.EncodeToString(sum[:])+"\n" {
		t.Fatalf("accepted an archive whose trailer %q (%q) is not the SHA-256 of what precedes it", trailer, hdr.Name)
	}
	if hdr, err := tr.Next(); err != io.EOF {
		t.Fatalf("accepted an archive with %v after its trailer (%v)", hdr, err)
	}
	var m Manifest
	if err := json.Unmarshal(bytes.TrimRight(manifest, " \n"), &m); err != nil || m.Format != BackupFormat {
		t.Fatalf("accepted an archive whose manifest is %q (%v)", manifest, err)
	}
	if len(m.Files) != len(files) {
		t.Fatalf("accepted a manifest of %d files for %d in the archive", len(m.Files), len(files))
	}
	for _, mf := range m.Files {
		sum, ok := files[mf.Name]
		if !ok || sizes[mf.Name] != mf.Size || hex.EncodeToString(sum[:]) != mf.SHA256 {
			t.Fatalf("accepted a manifest whose %s is not the archive's", mf.Name)
		}
	}
	return m
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tarOf is a tar of the given entries, magic first, for seeds that are no backup.
func tarOf(f *testing.F, entries map[string]string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	names := []string{backupMagicName}
	for n := range entries {
		if n != backupMagicName {
			names = append(names, n)
		}
	}
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Size: int64(len(entries[n])), Mode: 0o600, Typeflag: tar.TypeReg}); err != nil {
			f.Fatal(err)
		}
		if _, err := tw.Write([]byte(entries[n])); err != nil {
			f.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}
