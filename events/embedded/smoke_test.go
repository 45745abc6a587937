package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
)

func startServer(t *testing.T) (*embedded.Store, *embedded.Server, *esdb.Client) {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := esdb.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); srv.Close(); st.Close() })
	return st, srv, c
}

func TestOfficialClientAppendsReadsAndSubscribes(t *testing.T) {
	_, _, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := func(typ string) esdb.EventData {
		return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{"n":1}`), Metadata: []byte(`{"actor":"a"}`)}
	}
	first := ev("IncidentReported")
	res, err := c.AppendToStream(ctx, "incident-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, first, ev("IncidentQualified"))
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 1 || res.CommitPosition != 2 {
		t.Fatalf("append result %+v", res)
	}
	// The same events again at the same expected revision: idempotent.
	if _, err := c.AppendToStream(ctx, "incident-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, first); err != nil {
		t.Fatalf("idempotent retry refused: %v", err)
	}
	_, err = c.AppendToStream(ctx, "incident-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev("Other"))
	var esErr *esdb.Error
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeWrongExpectedVersion {
		t.Fatalf("want wrong expected version, got %v", err)
	}
	rs, err := c.ReadStream(ctx, "incident-1", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Event.EventType)
		if time.Since(e.Event.CreatedDate) > time.Minute || string(e.Event.UserMetadata) != `{"actor":"a"}` {
			t.Fatalf("bad event %+v", e.Event)
		}
	}
	if len(types) != 2 || types[0] != "IncidentQualified" {
		t.Fatalf("backwards read: %v", types)
	}
	rs, err = c.ReadStream(ctx, "incident-404", esdb.ReadStreamOptions{}, 10)
	if err == nil {
		_, err = rs.Recv()
	}
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("want not found, got %v", err)
	}

	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"incident-"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.AppendToStream(ctx, "resource-1", esdb.AppendToStreamOptions{}, ev("ResourceRegistered")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "incident-2", esdb.AppendToStreamOptions{}, ev("IncidentReported")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 3 {
		se := sub.Recv()
		if se.SubscriptionDropped != nil {
			t.Fatal(se.SubscriptionDropped.Error)
		}
		if se.EventAppeared != nil {
			got = append(got, se.EventAppeared.Event.StreamID)
		}
	}
	if got[0] != "incident-1" || got[2] != "incident-2" {
		t.Fatalf("subscription saw %v", got)
	}
}

func TestRetryOfTheLastAppendWithAnyIsNotWrittenTwice(t *testing.T) {
	_, _, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := func() esdb.EventData {
		return esdb.EventData{EventID: uuid.New(), EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	}
	a, b, x := ev(), ev(), ev()
	length := func() int {
		rs, err := c.ReadStream(ctx, "s-1", esdb.ReadStreamOptions{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			if _, err := rs.Recv(); errors.Is(err, io.EOF) {
				return n
			} else if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	for range 2 {
		if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, a, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := length(); n != 2 {
		t.Fatalf("a retried append with any was written again: %d events", n)
	}
	// Once another append came after it, the same events are new again (best effort,
	// as on a real server).
	if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, x); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, a, b); err != nil {
		t.Fatal(err)
	}
	if n := length(); n != 5 {
		t.Fatalf("stream has %d events, want 5", n)
	}
}

func TestStreamSubscriptionCatchesUpThenGoesLive(t *testing.T) {
	_, _, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := func(typ string) esdb.EventData {
		return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	}
	if _, err := c.AppendToStream(ctx, "incident-9", esdb.AppendToStreamOptions{}, ev("A"), ev("B")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "incident-8", esdb.AppendToStreamOptions{}, ev("Other")); err != nil {
		t.Fatal(err)
	}
	// From revision 0, exclusive: B, then what comes live.
	sub, err := c.SubscribeToStream(ctx, "incident-9", esdb.SubscribeToStreamOptions{From: esdb.Revision(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.AppendToStream(ctx, "incident-9", esdb.AppendToStreamOptions{}, ev("C")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		se := sub.Recv()
		if se.SubscriptionDropped != nil {
			t.Fatal(se.SubscriptionDropped.Error)
		}
		if se.EventAppeared != nil {
			got = append(got, fmt.Sprintf("%s@%d", se.EventAppeared.Event.EventType, se.EventAppeared.Event.EventNumber))
		}
	}
	if got[0] != "B@1" || got[1] != "C@2" {
		t.Fatalf("stream subscription saw %v, want [B@1 C@2]", got)
	}
}
