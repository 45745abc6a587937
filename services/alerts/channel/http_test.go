package channel_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

func sms(id, to string) channel.Message {
	return channel.Message{DeliveryID: id, Channel: channel.ChannelSMS, To: to, Language: "fr", Body: "Crue : montez à l'étage.", AlertID: "alert-1"}
}

func TestGatewayRequestFormat(t *testing.T) {
	var got struct {
		header http.Header
		body   map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.header = r.Header.Clone()
		json.NewDecoder(r.Body).Decode(&got.body)
	}))
	defer srv.Close()
	g := &channel.HTTPGateway{URL: srv.URL + "/sms", Token: "tok"}
	m := sms("a1:r1:SMS", "+33612345678")
	m.Exercise = true
	if res, err := g.Send(context.Background(), m); err != nil || !res.Delivered || res.Duplicate {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	want := map[string]any{"deliveryId": "a1:r1:SMS", "channel": "SMS", "to": "+33612345678", "language": "fr", "text": m.Body, "exercise": true}
	if len(got.body) != len(want) {
		t.Errorf("body %v, want %v", got.body, want)
	}
	for k, v := range want {
		if got.body[k] != v {
			t.Errorf("%s = %v, want %v", k, got.body[k], v)
		}
	}
	if got.header.Get("Idempotency-Key") != "a1:r1:SMS" || got.header.Get("Authorization") != "Bearer tok" || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got.header)
	}
}

func TestGatewayToSink(t *testing.T) {
	sink := channeltest.StartHTTP(t, channeltest.WithToken("tok"))
	g := &channel.HTTPGateway{URL: sink.URL() + "/sms", Token: "tok"}
	ctx := context.Background()

	// 5xx twice, then delivered.
	sink.FailNext(2, http.StatusServiceUnavailable)
	var calls atomic.Int32
	res, err := channel.WithRetry(counted(g, &calls), fastRetry).Send(ctx, sms("a1:r1:SMS", "+33600000001"))
	if err != nil || !res.Delivered || calls.Load() != 3 {
		t.Fatalf("Send = %+v, %v after %d calls; want delivered after 3", res, err, calls.Load())
	}
	// The same delivery again (a dispatcher restarted mid-send): 409, counted once.
	res, err = g.Send(ctx, sms("a1:r1:SMS", "+33600000001"))
	if err != nil || !res.Delivered || !res.Duplicate {
		t.Fatalf("resend = %+v, %v; want delivered duplicate", res, err)
	}
	if sink.Count() != 1 || sink.Raw() != 2 || sink.Duplicates() != 1 || sink.PerRecipient()["+33600000001"] != 1 {
		t.Fatalf("count %d raw %d duplicates %d per recipient %v", sink.Count(), sink.Raw(), sink.Duplicates(), sink.PerRecipient())
	}
	p := sink.Messages()[0]
	if p.Key != "a1:r1:SMS" || p.Path != "/sms" || p.Channel != "SMS" || p.Text != "Crue : montez à l'étage." || p.Language != "fr" {
		t.Errorf("recorded %+v", p)
	}

	// 4xx: permanent, not retried.
	calls.Store(0)
	sink.FailNext(1, http.StatusBadRequest)
	_, err = channel.WithRetry(counted(g, &calls), fastRetry).Send(ctx, sms("a1:r2:SMS", "+33600000002"))
	if !channel.IsPermanent(err) || calls.Load() != 1 {
		t.Fatalf("err %v after %d calls; want permanent after 1", err, calls.Load())
	}
	// A wrong token is a 401: permanent.
	calls.Store(0)
	bad := &channel.HTTPGateway{URL: sink.URL(), Token: "wrong"}
	_, err = channel.WithRetry(counted(bad, &calls), fastRetry).Send(ctx, sms("a1:r3:SMS", "+33600000003"))
	if !channel.IsPermanent(err) || calls.Load() != 1 || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: err %v after %d calls", err, calls.Load())
	}
	// 429 is temporary.
	sink.FailNext(1, http.StatusTooManyRequests)
	if _, err := g.Send(ctx, sms("a1:r4:SMS", "+33600000004")); err == nil || channel.IsPermanent(err) {
		t.Fatalf("429: err %v, want temporary", err)
	}
	// A GET answers the counters.
	resp, err := http.Get(sink.URL() + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st channeltest.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Count != 1 || st.Raw != 2 {
		t.Fatalf("stats %+v, %v", st, err)
	}
}

func TestGatewayTimeoutIsTemporary(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	g := &channel.HTTPGateway{URL: srv.URL, Client: &http.Client{Timeout: 50 * time.Millisecond}}
	_, err := g.Send(context.Background(), sms("a1:r1:VOICE", "+33600000001"))
	if err == nil || channel.IsPermanent(err) {
		t.Fatalf("err %v, want temporary", err)
	}
	if _, err := (&channel.HTTPGateway{URL: "ftp://x"}).Send(context.Background(), sms("a1:r1:SMS", "+33600000001")); !channel.IsPermanent(err) {
		t.Fatalf("bad URL: err %v, want permanent", err)
	}
}

func TestWebhookSignedToSink(t *testing.T) {
	sink := channeltest.StartHTTP(t, channeltest.WithSecret("shh"))
	w := &channel.Webhook{URL: sink.URL() + "/hook", Secret: "shh"}
	m := channel.Message{DeliveryID: "a1:p1:WEBHOOK", Channel: channel.ChannelWebhook, Subject: "Alerte", Body: "Texte", AlertID: "alert-1", Identifier: "urn:1"}
	if res, err := w.Send(context.Background(), m); err != nil || !res.Delivered {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	if res, err := w.Send(context.Background(), m); err != nil || !res.Duplicate {
		t.Fatalf("resend = %+v, %v", res, err)
	}
	p := sink.Messages()
	if len(p) != 1 || p[0].Text != "Texte" || p[0].Subject != "Alerte" || p[0].Identifier != "urn:1" || sink.Raw() != 2 {
		t.Fatalf("recorded %+v, raw %d", p, sink.Raw())
	}
	// Signed with another secret: refused for good.
	_, err := (&channel.Webhook{URL: sink.URL(), Secret: "other"}).Send(context.Background(), m)
	if !channel.IsPermanent(err) {
		t.Fatalf("wrong secret: err %v, want permanent", err)
	}
	if _, err := (&channel.Webhook{URL: sink.URL()}).Send(context.Background(), m); !channel.IsPermanent(err) {
		t.Fatalf("no secret: err %v, want permanent", err)
	}
}

func TestWebhookHeadersAndVerify(t *testing.T) {
	var body []byte
	var h http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h = r.Header.Clone()
		body = make([]byte, r.ContentLength)
		r.Body.Read(body)
	}))
	defer srv.Close()
	before := time.Now().Unix()
	m := channel.Message{DeliveryID: "d1", Channel: channel.ChannelWebhook, Body: "x"}
	if _, err := (&channel.Webhook{URL: srv.URL, Secret: "k"}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	sig := h.Get("X-Vigie-Signature")
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 || h.Get("Idempotency-Key") != "d1" {
		t.Fatalf("headers %v", h)
	}
	if ts, err := strconv.ParseInt(h.Get("X-Vigie-Timestamp"), 10, 64); err != nil || ts < before || ts > time.Now().Unix() {
		t.Fatalf("X-Vigie-Timestamp %q", h.Get("X-Vigie-Timestamp"))
	}
	var back channel.Message
	if err := json.Unmarshal(body, &back); err != nil || back != m {
		t.Fatalf("body %s: %v", body, err)
	}
	if !channel.Verify("k", body, sig) {
		t.Fatal("Verify refuses a good signature")
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] ^= 1
	last := "0"
	if strings.HasSuffix(sig, "0") {
		last = "1"
	}
	for name, ok := range map[string]bool{
		"tampered body":   channel.Verify("k", tampered, sig),
		"wrong secret":    channel.Verify("k2", body, sig),
		"tampered sig":    channel.Verify("k", body, sig[:len(sig)-1]+last),
		"no prefix":       channel.Verify("k", body, strings.TrimPrefix(sig, "sha256=")),
		"not hex":         channel.Verify("k", body, "sha256=zz"),
		"empty signature": channel.Verify("k", body, ""),
	} {
		if ok {
			t.Errorf("Verify accepts a %s", name)
		}
	}
}
