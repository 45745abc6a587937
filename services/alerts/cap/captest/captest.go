// Package captest validates CAP documents in tests with a real XML schema validator:
// xmllint (Debian's libxml2-utils, installed by .ci/run) and the official schema.
package captest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"vigie/services/alerts/cap"
)

// Check runs xmllint with the official schema over doc: nil when it validates.
// Without xmllint the test fails rather than skips: a CAP test that validated
// nothing must not pass.
func Check(t testing.TB, doc []byte) error {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not on PATH: install libxml2-utils (.ci/run installs it on CI)")
	}
	dir := t.TempDir()
	schema := filepath.Join(dir, "CAP-v1.2.xsd")
	f := filepath.Join(dir, "alert.xml")
	if err := os.WriteFile(schema, cap.Schema, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--noout", "--schema", schema, f).CombinedOutput(); err != nil {
		return fmt.Errorf("xmllint refuses the document: %v\n%s", err, out)
	}
	return nil
}

// Valid fails the test unless doc validates.
func Valid(t testing.TB, doc []byte) {
	t.Helper()
	if err := Check(t, doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
}
