package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeNotRunnable are the README's fenced blocks the test cannot run, by their first
// line, with the reason. Every other block is run; a block listed here that the README
// no longer has fails the test, so that the list cannot outlive its blocks.
var readmeNotRunnable = map[string]string{
	"go run ./cmd/vigie demo": "the demo itself: the test starts it, on a free port and in a temporary data directory",
	"scripts/test":            "the whole test suite, this test among them",
	"EVENTSTORE_URL='esdb://host:2113?tls=false' scripts/test": "the test suite against a real EventStoreDB, which the test does not have",
}

// readmeAfterStop are the commands that read the demo's data directory with the
// store stopped (the README says "once the demo has stopped"): the test runs the
// blocks that hold one after stopping the demo.
var readmeAfterStop = []string{"vigie replay ", "vigie eventstore scavenge "}

// readmeBlock is one fenced block of README.md.
type readmeBlock struct {
	lang, text string
	line       int // of the opening fence
}

func (b readmeBlock) first() string {
	first, _, _ := strings.Cut(strings.TrimSpace(b.text), "\n")
	return first
}

// readmeBlocks returns the fenced blocks of a Markdown text, in order.
func readmeBlocks(t *testing.T, md string) []readmeBlock {
	t.Helper()
	var out []readmeBlock
	var cur *readmeBlock
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &readmeBlock{lang: strings.TrimPrefix(l, "```"), line: i + 1}
		case cur != nil && l == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("README.md: the block opened on line %d is never closed", cur.line)
	}
	return out
}

// TestREADMECommandsWorkAgainstTheDemo runs every shell command and GraphQL query of
// README.md's fenced blocks against `vigie demo`, as a newcomer would paste them: in a
// directory whose ./data is the demo's, `go run ./cmd/vigie` and `vigie` being this
// test binary as vigie, localhost:8080 the demo's address, TOKEN the prefecture's token,
// /mnt/backups a temporary directory. A command fails when it exits non-zero or
// prints a GraphQL answer with errors.
func TestREADMECommandsWorkAgainstTheDemo(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("the README's commands are bash: ", err)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's examples use curl (Debian: apt-get install curl): ", err)
	}
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, string(md))
	work := t.TempDir()
	backups := filepath.Join(work, "backups")
	if err := os.Mkdir(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	d, tokens := startDemoForTest(t, filepath.Join(work, "data"))
	addr := strings.TrimPrefix(d.addr, "http://")

	seen := map[string]bool{}
	var later []readmeBlock
	runBlock := func(b readmeBlock) {
		t.Helper()
		first := b.first()
		seen[first] = true
		var failure string
		switch b.lang {
		case "sh":
			failure = runReadmeShell(t, b.text, work, addr, backups, tokens["cod-gard"])
		case "graphql":
			failure = runReadmeQuery(t, b.text, d.addr, tokens)
		default:
			t.Errorf("README.md line %d: a block of %q, which the test does not know how to run", b.line, b.lang)
			return
		}
		if failure != "" {
			t.Errorf("README.md line %d: %s", b.line, failure)
		}
	}
	for _, b := range blocks {
		first := b.first()
		if _, skip := readmeNotRunnable[first]; skip {
			seen[first] = true
			continue
		}
		if containsAny(b.text, readmeAfterStop) {
			later = append(later, b)
			continue
		}
		runBlock(b)
	}
	d.stop(t)
	for _, b := range later {
		runBlock(b)
	}
	for first := range readmeNotRunnable {
		if !seen[first] {
			t.Errorf("README.md has no block starting %q any more: remove it from the test's list", first)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// runReadmeShell runs a shell block with bash in dir and returns why it failed ("" if
// it did not).
func runReadmeShell(t *testing.T, text, dir, addr, backups, token string) string {
	t.Helper()
	script := strings.NewReplacer(
		"go run ./cmd/vigie", "vigie",
		"localhost:8080", addr,
		"127.0.0.1:8080", addr,
		"/mnt/backups", backups,
	).Replace(text)
	// vigie is this test binary run as vigie (TestMain).
	prelude := `set -eo pipefail
vigie() { ` + runMainEnv + `=1 "$VIGIE_TEST_BINARY" "$@"; }
`
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", prelude+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VIGIE_TEST_BINARY="+os.Args[0], "TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(text) + ": " + err.Error() + "\nstdout: " + stdout.String() + "\nstderr: " + stderr.String()
	}
	if msg := graphQLErrors(stdout.Bytes()); msg != "" {
		return strings.TrimSpace(text) + ": GraphQL errors: " + msg
	}
	t.Logf("ran %q: %d bytes on stdout", strings.TrimSpace(text), stdout.Len())
	return ""
}

// graphQLErrors returns the errors of a GraphQL answer, "" when out is none or has none.
func graphQLErrors(out []byte) string {
	var r struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(out, &r) != nil || len(r.Errors) == 0 {
		return ""
	}
	msgs := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		msgs[i] = string(e)
	}
	return strings.Join(msgs, "; ")
}

// readmeTokenLine is how a GraphQL block says whose token it is sent with: a comment
// naming one of the demo's people as the demo prints them.
var readmeTokenLine = regexp.MustCompile(`(?m)^# jeton : (.+)$`)

// runReadmeQuery sends a GraphQL block to the gateway with the token its comment
// names, and returns why it failed ("" if it did not).
func runReadmeQuery(t *testing.T, text, gateway string, tokens map[string]string) string {
	t.Helper()
	m := readmeTokenLine.FindStringSubmatch(text)
	if m == nil {
		return "a GraphQL block without « # jeton : <person> »: " + text
	}
	token := ""
	for _, p := range demoPeople {
		if p.who == m[1] {
			token = tokens[p.sub]
		}
	}
	if token == "" {
		return "no demo person is « " + m[1] + " »"
	}
	gql := &gqlClient{t: t, http: &http.Client{Timeout: 30 * time.Second}, url: gateway + "/graphql"}
	r, status, raw := gql.send(token, text, nil)
	if len(r.Errors) > 0 || status != http.StatusOK {
		return strings.TrimSpace(text) + ": " + string(raw)
	}
	t.Logf("sent %q: %s", strings.TrimSpace(text), raw)
	return ""
}
