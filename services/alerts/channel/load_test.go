package channel_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

// sendAll sends n distinct messages from 32 goroutines.
func sendAll(t *testing.T, s channel.Sender, n int, msg func(i int) channel.Message) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				if _, err := s.Send(context.Background(), msg(i)); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func checkOnce(t *testing.T, name string, count, raw int, per map[string]int, n int) {
	t.Helper()
	if count != n || raw != n || len(per) != n {
		t.Fatalf("%s: count %d raw %d recipients %d; want %d each", name, count, raw, len(per), n)
	}
	for r, c := range per {
		if c != 1 {
			t.Fatalf("%s: %s received %d messages", name, r, c)
		}
	}
}

func TestConcurrentDeliveries(t *testing.T) {
	const n = 2000
	t.Run("smtp", func(t *testing.T) {
		t.Parallel()
		sink := channeltest.StartSMTP(t)
		s := newSMTP(sink)
		defer s.Close()
		sendAll(t, channel.WithRetry(s, fastRetry), n, func(i int) channel.Message {
			return email(fmt.Sprintf("a1:r%d:EMAIL", i), fmt.Sprintf("r%d@example.test", i))
		})
		checkOnce(t, "smtp", sink.Count(), sink.Raw(), sink.PerRecipient(), n)
	})
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		sink := channeltest.StartHTTP(t, channeltest.WithToken("tok"))
		g := &channel.HTTPGateway{URL: sink.URL(), Token: "tok"}
		sendAll(t, channel.WithRetry(g, fastRetry), n, func(i int) channel.Message {
			return sms(fmt.Sprintf("a1:r%d:SMS", i), fmt.Sprintf("+3360%07d", i))
		})
		checkOnce(t, "http", sink.Count(), sink.Raw(), sink.PerRecipient(), n)
	})
}

// BenchmarkSinks sends b.N e-mails, then b.N SMS, to the sinks from 32
// goroutines (go test -run - -bench Sinks -benchtime 100000x).
func BenchmarkSinks(b *testing.B) {
	b.Run("smtp", func(b *testing.B) {
		sink := channeltest.StartSMTP(b)
		s := newSMTP(sink)
		defer s.Close()
		benchSend(b, s, sink.Count)
	})
	b.Run("http", func(b *testing.B) {
		sink := channeltest.StartHTTP(b)
		benchSend(b, &channel.HTTPGateway{URL: sink.URL()}, sink.Count)
	})
}

func benchSend(b *testing.B, s channel.Sender, count func() int) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range next {
				m := email(fmt.Sprintf("a1:r%d", i), fmt.Sprintf("r%d@example.test", i))
				if _, err := s.Send(context.Background(), m); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	if count() != b.N {
		b.Fatalf("the sink has %d messages, want %d", count(), b.N)
	}
}
