package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// runMainEnv makes the test binary behave as the vigie command, so the tests run the
// real process (signals, exit code, stdout) without needing the go tool at test time.
const runMainEnv = "VIGIE_TEST_RUN_MAIN"

// Bounds for a process under test; generous because -race slows start-up.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestServeEventstoreKeepsEventsAcrossRestart(t *testing.T) {
	data := t.TempDir()
	id := uuid.New()
	event := esdb.EventData{
		EventID:     id,
		EventType:   "IncidentReported",
		ContentType: esdb.ContentTypeJson,
		Data:        []byte(`{"incidentId":"restart-1","kind":"flood"}`),
	}
	const stream = "incident-restart-1"

	p := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	client := dial(t, p.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, event); err != nil {
		t.Fatalf("append: %v", err)
	}
	assertStream(ctx, t, client, stream, event)
	client.Close()
	p.stop(t, syscall.SIGTERM)
	if _, err := os.Stat(filepath.Join(data, "eventstore")); err != nil {
		t.Fatalf("the log is not under --data/eventstore: %v", err)
	}

	// A new process on the same directory must serve the same stream at the same
	// revision: the second append expects revision 0, i.e. exactly one event before it.
	p = startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	client = dial(t, p.addr)
	defer client.Close()
	assertStream(ctx, t, client, stream, event)
	second := esdb.EventData{EventID: uuid.New(), EventType: "IncidentClosed", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	if _, err := client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)}, second); err != nil {
		t.Fatalf("append after restart at revision 0: %v", err)
	}
	assertStream(ctx, t, client, stream, event, second)
	client.Close()
	p.stop(t, syscall.SIGINT)
}

func TestServeEventstoreTakesDataFromEnvironmentUnlessFlagGiven(t *testing.T) {
	fromEnv, fromFlag := t.TempDir(), t.TempDir()
	t.Setenv("VIGIE_DATA", fromEnv)

	p := startVigie(t, "serve", "eventstore", "--listen", "127.0.0.1:0")
	p.stop(t, syscall.SIGTERM)
	if _, err := os.Stat(filepath.Join(fromEnv, "eventstore")); err != nil {
		t.Fatalf("VIGIE_DATA was not used: %v", err)
	}

	p = startVigie(t, "serve", "eventstore", "--data", fromFlag, "--listen", "127.0.0.1:0")
	p.stop(t, syscall.SIGTERM)
	if _, err := os.Stat(filepath.Join(fromFlag, "eventstore")); err != nil {
		t.Fatalf("--data did not win over VIGIE_DATA: %v", err)
	}
}

// Off loopback the store is secure by default (issue 15, see
// TestEventstoreSecureByDefaultOffLoopback); --insecure there is refused.
func TestServeEventstoreRefusesInsecureNonLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"--insecure", "--listen", "0.0.0.0:0"},
		{"--insecure", "--listen", ":0"},
		{"--listen", "127.0.0.1:0", "--tls-cert", "cert.pem"}, // a certificate without its key
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			data := t.TempDir()
			// A bounded context: were the refusal broken, the server would stop on its own.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := run(ctx, append([]string{"serve", "eventstore", "--data", data}, args...), &stdout, &stderr)
			if code == exitOK {
				t.Fatalf("exit code 0, want a refusal; stderr: %s", stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if msg := stderr.String(); !strings.HasPrefix(msg, "vigie serve eventstore: ") || !strings.Contains(msg, "TLS") {
				t.Errorf("stderr does not say that TLS is missing: %q", msg)
			}
		})
	}
}

// A usage error exits 2 as a process too (the flag package's convention), so that
// scripts never mistake it for a successful run.
func TestAUsageErrorExitsTwoAsAProcess(t *testing.T) {
	_, stderr, code := runVigie(t, nil, "drill")
	if code != exitUsage {
		t.Fatalf("vigie drill without flags: exit code %d, want %d", code, exitUsage)
	}
	if !strings.HasPrefix(stderr, "vigie drill: ") {
		t.Errorf("stderr = %q, want the command's name first", stderr)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit code %d, want 0", args, code)
		}
		for _, c := range commands {
			if !strings.Contains(stdout.String(), "vigie "+c.name+" ") {
				t.Errorf("%v: usage does not list %q", args, c.name)
			}
		}
	}
}

func TestNoArgumentsOrUnknownCommandPrintUsageAndExitTwo(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"serve", "bogus"}, {"projections"}, {"projections", "drop"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%q: exit code %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), "Usage:") || !strings.Contains(stderr.String(), "vigie serve eventstore") {
			t.Errorf("%q: stderr has no usage: %q", args, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: stdout = %q, want nothing", args, stdout.String())
		}
	}
}

// process is a vigie process started by a test.
type process struct {
	cmd    *exec.Cmd
	addr   string
	lines  chan string   // the stdout lines after "listening on"
	done   chan struct{} // closed when stdout reaches EOF
	stderr *lockedBuffer
}

// vigieCommand is the test binary run as vigie with args. env entries ("KEY=value")
// replace the test's own variables of the same name ("KEY=" unsets one in effect), so
// a developer's EVENTSTORE_URL or VIGIE_DATA never leaks into a test that sets its own.
func vigieCommand(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	override := map[string]bool{runMainEnv: true}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !override[k] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, env...), runMainEnv+"=1")
	return cmd
}

// runVigie runs vigie to its end (within readyTimeout) and returns what it printed
// and its exit code.
func runVigie(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := vigieCommand(env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait, bounded: a command that should end at once must not hang the suite.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(readyTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("vigie %s still running after %v; stderr:\n%s", strings.Join(args, " "), readyTimeout, errOut.String())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("vigie %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// startVigie starts the test binary as vigie and waits for its "listening on" line.
func startVigie(t *testing.T, args ...string) *process {
	t.Helper()
	return startVigieEnv(t, nil, args...)
}

// startVigieEnv is startVigie with env entries as vigieCommand takes them.
func startVigieEnv(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := vigieCommand(env, args...)
	p := &process{cmd: cmd, lines: make(chan string, 16), done: make(chan struct{}), stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill a process the test failed to stop, so a failed test never leaks a server.
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		defer close(p.done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			p.lines <- s.Text()
		}
	}()
	select {
	case line, ok := <-p.lines:
		if !ok || !strings.HasPrefix(line, "listening on ") {
			t.Fatalf("first stdout line %q, want \"listening on ADDR\"; stderr:\n%s", line, p.stderr)
		}
		p.addr = strings.TrimPrefix(line, "listening on ")
	case <-p.done:
		t.Fatalf("vigie exited before listening; stderr:\n%s", p.stderr)
	case <-time.After(readyTimeout):
		t.Fatalf("no \"listening on\" line within %v; stderr:\n%s", readyTimeout, p.stderr)
	}
	return p
}

// stop sends sig and asserts a clean exit (code 0) within stopTimeout, with nothing
// more printed on stdout than the one "listening on" line.
func (p *process) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Fatalf("still running %v after %v; stderr:\n%s", stopTimeout, sig, p.stderr)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after %v: %v; stderr:\n%s", sig, err, p.stderr)
	}
	close(p.lines)
	for extra := range p.lines {
		t.Errorf("unexpected stdout line %q: stdout must carry only the listening line", extra)
	}
}

// dial connects the official client; the client's logger would print to stdout.
func dial(t *testing.T, addr string) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString("esdb://" + addr + "?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	client, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// assertStream reads the whole stream and compares it with want, event by event.
func assertStream(ctx context.Context, t *testing.T, client *esdb.Client, stream string, want ...esdb.EventData) {
	t.Helper()
	rs, err := client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Start{}, Direction: esdb.Forwards}, 100)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	defer rs.Close()
	var got []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		got = append(got, ev.Event)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d events from %s, want %d", len(got), stream, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.EventID != w.EventID || g.EventType != w.EventType || !bytes.Equal(g.Data, w.Data) || g.EventNumber != uint64(i) {
			t.Errorf("event %d = {%s %s %s #%d}, want {%s %s %s #%d}", i, g.EventID, g.EventType, g.Data, g.EventNumber, w.EventID, w.EventType, w.Data, i)
		}
	}
}

// lockedBuffer lets a test read a child's stderr while exec still copies into it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
