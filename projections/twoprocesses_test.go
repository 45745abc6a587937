package projections_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vigie/projections/projectiontest"
)

// Two projector processes on the same Redis and log: one applies, the other stands
// by; killed without a chance to hand the lease back, the active one is replaced by
// the standby within five seconds, and no event is applied twice.
func TestTwoProjectorProcessesOneAppliesTheOtherTakesOver(t *testing.T) {
	st, storeURL := projectiontest.Store(t)
	live := projectiontest.Redis(t)
	opts := live.Options()
	redisURL := fmt.Sprintf("redis://%s/%d", opts.Addr, opts.DB)
	l := newLoader(t, st, 30, 4)
	stopLoad := l.start(300)
	defer stopLoad()

	start := func() (*exec.Cmd, *safeBuffer) {
		out := &safeBuffer{}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=1", "VIGIE_TEST_REDIS_URL="+redisURL, "VIGIE_TEST_EVENTSTORE_URL="+storeURL, "VIGIE_TEST_BATCH=32")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, out
	}
	activeIn := func(out *safeBuffer) bool { return strings.Contains(out.String(), "projection active") }
	a, aOut := start()
	b, bOut := start()

	waitFor(t, "one projector process active", time.Now().Add(10*time.Second), func() bool { return activeIn(aOut) || activeIn(bOut) })
	// While the load goes on, the other one stays a standby.
	time.Sleep(2 * time.Second)
	if activeIn(aOut) && activeIn(bOut) {
		t.Fatalf("both projector processes became active:\nA:\n%s\nB:\n%s", aOut, bOut)
	}
	holder, standbyOut := a, bOut
	if activeIn(bOut) {
		holder, standbyOut = b, aOut
	}
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	killed := time.Now()
	waitFor(t, "the standby takes over", killed.Add(5*time.Second), func() bool { return activeIn(standbyOut) })
	t.Logf("standby active %s after the kill", time.Since(killed).Round(10*time.Millisecond))

	stopLoad()
	projectiontest.WaitCheckpoint(t, live, name, projectiontest.LastPosition(t, st), time.Now().Add(30*time.Second))
	logsOnce(t, live, 1, st, l)
	projectiontest.SameModel(t, name, live, 1, cleanBuild(t, st))
	noDeadLetters(t, live)
}
