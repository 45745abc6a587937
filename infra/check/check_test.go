package check

import (
	"path/filepath"
	"strings"
	"testing"
)

func repo(t *testing.T) Repo {
	t.Helper()
	r, err := LoadRepo(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInfraFilesAreValidAndDocumented(t *testing.T) {
	files, err := Files("..")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found only %v under infra/", files)
	}
	for _, err := range Check(files, repo(t)) {
		t.Error(err)
	}
}

// The check must fail on a bad file: one fixture per kind of problem.
func TestCheckRefusesBadFiles(t *testing.T) {
	errs := Check([]string{filepath.Join("testdata", "bad", "invalid.yaml"), filepath.Join("testdata", "bad", "unknown.yaml")}, repo(t))
	var all []string
	for _, e := range errs {
		all = append(all, e.Error())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"invalid.yaml: invalid YAML",
		"`vigie serve gatewy` is not a command",
		"variable VIGIE_UNDOCUMENTED_KNOB is documented nowhere",
		"variable ANOTHER_UNDOCUMENTED is documented nowhere",
		"image memcached:latest is not named in infra/README.md",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no error saying %q; got:\n%s", want, text)
		}
	}
}
