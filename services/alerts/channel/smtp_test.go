package channel_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

var fastRetry = channel.Retry{Attempts: 5, Base: time.Millisecond, Max: 5 * time.Millisecond}

// counted counts the calls to s.
func counted(s channel.Sender, n *atomic.Int32) channel.Sender {
	return channel.SenderFunc(func(ctx context.Context, m channel.Message) (channel.Result, error) {
		n.Add(1)
		return s.Send(ctx, m)
	})
}

func email(id, to string) channel.Message {
	return channel.Message{
		DeliveryID: id, Channel: channel.ChannelEmail, To: to, Language: "fr",
		Subject: "Alerte crue", Body: "Montez à l'étage.", AlertID: "alert-1", Identifier: "urn:vigie:1",
	}
}

func newSMTP(sink *channeltest.SMTPSink) *channel.SMTP {
	return &channel.SMTP{Addr: sink.Addr(), From: "Mairie de Nîmes <alertes@nimes.test>", Timeout: 5 * time.Second}
}

func TestSMTPRoundTripUTF8SubjectAndDotStuffing(t *testing.T) {
	sink := channeltest.StartSMTP(t)
	s := newSMTP(sink)
	defer s.Close()
	body := strings.Join([]string{
		"EXERCICE — Crue du Vidourle : évacuez les rez-de-chaussée.",
		".",
		"..deux points",
		".un point",
		"une ligne très longue " + strings.Repeat("éàç=", 40),
		"fin",
	}, "\n")
	m := email("a1:r1:EMAIL", "Zoé Martin <zoe@example.test>")
	m.Subject = "EXERCICE — Alerte crue : évacuation « Sommières »"
	m.Body = body
	m.Exercise = true
	res, err := s.Send(context.Background(), m)
	if err != nil || !res.Delivered {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("sink has %d messages, want 1", len(got))
	}
	g := got[0]
	if g.Subject != m.Subject {
		t.Errorf("subject %q, want %q", g.Subject, m.Subject)
	}
	if strings.TrimSuffix(g.Body, "\n") != body {
		t.Errorf("body round trip:\n got %q\nwant %q", g.Body, body)
	}
	if g.MessageID != "<a1%3Ar1%3AEMAIL@vigie>" || g.MessageID != channel.MessageID(m.DeliveryID) {
		t.Errorf("Message-ID %q", g.MessageID)
	}
	if g.DeliveryID != m.DeliveryID || g.AlertID != "alert-1" || g.Identifier != "urn:vigie:1" || g.Language != "fr" || !g.Exercise {
		t.Errorf("headers: %+v", g)
	}
	if len(g.To) != 1 || g.To[0] != "zoe@example.test" || g.From != "alertes@nimes.test" {
		t.Errorf("envelope from %q to %q", g.From, g.To)
	}
}

func TestSMTPResendIsOneMessage(t *testing.T) {
	sink := channeltest.StartSMTP(t)
	s := newSMTP(sink)
	defer s.Close()
	m := email("a1:r2:EMAIL", "r2@example.test")
	for range 2 {
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if sink.Count() != 1 || sink.Raw() != 2 || sink.Duplicates() != 1 || sink.PerRecipient()["r2@example.test"] != 1 {
		t.Fatalf("count %d raw %d duplicates %d per recipient %v", sink.Count(), sink.Raw(), sink.Duplicates(), sink.PerRecipient())
	}
}

func TestSMTPTemporaryRefusalIsRetried(t *testing.T) {
	sink := channeltest.StartSMTP(t)
	s := newSMTP(sink)
	defer s.Close()
	sink.FailNext(2, 451)
	var calls atomic.Int32
	res, err := channel.WithRetry(counted(s, &calls), fastRetry).Send(context.Background(), email("a1:r3:EMAIL", "r3@example.test"))
	if err != nil || !res.Delivered {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if calls.Load() != 3 || sink.Count() != 1 || sink.Raw() != 1 {
		t.Fatalf("calls %d, count %d, raw %d; want 3, 1, 1", calls.Load(), sink.Count(), sink.Raw())
	}
}

func TestSMTPPermanentRefusalIsNotRetried(t *testing.T) {
	sink := channeltest.StartSMTP(t)
	s := newSMTP(sink)
	defer s.Close()
	sink.FailNext(1, 550)
	var calls atomic.Int32
	_, err := channel.WithRetry(counted(s, &calls), fastRetry).Send(context.Background(), email("a1:r4:EMAIL", "r4@example.test"))
	if !channel.IsPermanent(err) || calls.Load() != 1 {
		t.Fatalf("err %v (permanent %v) after %d calls; want permanent after 1", err, channel.IsPermanent(err), calls.Load())
	}
	// The session survives the refusal: the next message goes through.
	if _, err := s.Send(context.Background(), email("a1:r5:EMAIL", "r5@example.test")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []channel.Message{email("a1:r6:EMAIL", "not an address"), email("", "r7@example.test")} {
		if _, err := s.Send(context.Background(), bad); !channel.IsPermanent(err) {
			t.Errorf("Send(%q, %q) = %v, want a permanent error", bad.DeliveryID, bad.To, err)
		}
	}
}

func TestSMTPAuthAndStaleConnection(t *testing.T) {
	sink := channeltest.StartSMTP(t)
	s := newSMTP(sink)
	s.Username, s.Password = "vigie", "s3cret"
	defer s.Close()
	if _, err := s.Send(context.Background(), email("a1:r8:EMAIL", "r8@example.test")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.String(), "s3cret") {
		t.Errorf("String shows the password: %s", s)
	}
	// The server goes away and comes back: the idle connection is dead, the
	// next Send redials without an error.
	addr := sink.Addr()
	sink.Close()
	again, err := channeltest.NewSMTPSink(addr)
	if err != nil {
		t.Fatalf("cannot listen on %s again: %v", addr, err)
	}
	defer again.Close()
	if _, err := s.Send(context.Background(), email("a1:r9:EMAIL", "r9@example.test")); err != nil {
		t.Fatalf("Send after the server restarted: %v", err)
	}
	if again.Count() != 1 {
		t.Fatalf("new sink has %d messages", again.Count())
	}
}

func TestSMTPUnreachableIsTemporary(t *testing.T) {
	sink := channeltest.StartSMTP(t)
	addr := sink.Addr()
	sink.Close()
	s := &channel.SMTP{Addr: addr, From: "a@b.test", Timeout: time.Second}
	_, err := s.Send(context.Background(), email("a1:r10:EMAIL", "r10@example.test"))
	if err == nil || channel.IsPermanent(err) {
		t.Fatalf("err %v, want a temporary error", err)
	}
}
