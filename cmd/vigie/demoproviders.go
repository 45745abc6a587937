package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"vigie/graph"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/channel/channeltest"
)

// The demo's providers run inside the process and are reached over in-memory
// connections: `vigie demo` must deliver for real (SMS, voice, e-mail, with the
// protocols and error codes of real providers, so that the dispatcher's
// retries, refusals and idempotency keys are the production ones) without
// opening a port a newcomer's firewall would ask about, nor ever reaching a
// real person. Their host names are under .invalid (RFC 2606): should a
// sender ever dial them outside the in-memory network, no resolver answers.
const (
	demoGatewayHost = "passerelle-sms.demo.invalid:80"
	demoSMTPHost    = "smtp.demo.invalid:25"
	demoSMSURL      = "http://passerelle-sms.demo.invalid/sms"
	demoVoiceURL    = "http://passerelle-sms.demo.invalid/voice"
	demoMailFrom    = "Mairie de Nîmes <alertes@nimes.example.org>"
)

// demoRefusedPhone is a demo resident's number that the demo's SMS gateway
// refuses as an operator does an unassigned number (a 4xx answer: permanent),
// so that the demo shows an alert partly delivered, and why.
const demoRefusedPhone = "+33600000099"

// demoInboxLimit bounds what the inbox keeps: the demo may run for days and
// residents may be registered by hand, but the page shows the latest messages.
const demoInboxLimit = 1000

// demoInbox is what the demo's providers received (the graph.DemoInbox of the
// dashboard's « Messages reçus (démonstration) » page), de-duplicated as
// providers do (by Idempotency-Key over HTTP, by Message-ID for e-mail): a
// resend after a dispatcher crash shows once, as it reaches a resident once.
type demoInbox struct {
	mu      sync.Mutex
	msgs    []graph.DemoMessage
	seen    map[string]bool
	changed chan struct{} // closed and replaced on every new message
}

func newDemoInbox() *demoInbox {
	return &demoInbox{seen: map[string]bool{}, changed: make(chan struct{})}
}

// add records m under key unless key was received before; it reports whether
// m is new.
func (b *demoInbox) add(key string, m graph.DemoMessage) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[key] {
		return false
	}
	b.seen[key] = true
	b.msgs = append(b.msgs, m)
	if n := len(b.msgs); n > demoInboxLimit {
		b.msgs = append([]graph.DemoMessage(nil), b.msgs[n-demoInboxLimit:]...)
	}
	close(b.changed)
	b.changed = make(chan struct{})
	return true
}

// Received returns the messages in order of reception, oldest first.
func (b *demoInbox) Received() []graph.DemoMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]graph.DemoMessage(nil), b.msgs...)
}

// wait blocks until cond holds for the received messages, or ctx ends.
func (b *demoInbox) wait(ctx context.Context, cond func([]graph.DemoMessage) bool) error {
	for {
		b.mu.Lock()
		msgs, ch := append([]graph.DemoMessage(nil), b.msgs...), b.changed
		b.mu.Unlock()
		if cond(msgs) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// memNet is an in-memory network of named listeners: a dial is a net.Pipe
// whose server end the listener accepts. Nothing of it is a socket.
type memNet struct {
	mu        sync.Mutex
	listeners map[string]*memListener
}

func newMemNet() *memNet { return &memNet{listeners: map[string]*memListener{}} }

// listen makes the listener for addr (host:port).
func (n *memNet) listen(addr string) *memListener {
	l := &memListener{addr: memAddr(addr), conns: make(chan net.Conn), done: make(chan struct{})}
	n.mu.Lock()
	n.listeners[addr] = l
	n.mu.Unlock()
	return l
}

// DialContext has the signature of net.Dialer's, for http.Transport and the
// SMTP sender. An address no demo provider listens on is refused, as a real
// network refuses it: a misconfigured demo URL fails loudly instead of
// escaping to the real network.
func (n *memNet) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[addr]
	n.mu.Unlock()
	if l == nil || (network != "tcp" && network != "tcp4" && network != "tcp6") {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: memAddr(addr), Err: errors.New("no demo provider at this address (in-memory network)")}
	}
	return l.dial(ctx)
}

// memListener is a net.Listener over net.Pipe.
type memListener struct {
	addr  memAddr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }

func (l *memListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, ctx.Err()
	}
}

type memAddr string

func (a memAddr) Network() string { return "memory" }
func (a memAddr) String() string  { return string(a) }

// demoProviders are the demo's SMS/voice gateway and SMTP server, their
// senders and what they received.
type demoProviders struct {
	net     *memNet
	inbox   *demoInbox
	token   string // the gateway's bearer token: the senders must present it, as to a real one
	gateway *http.Server
	gwLis   *memListener
	smtp    *channeltest.SMTPSink
	client  *http.Client
	served  sync.WaitGroup
}

// startDemoProviders starts the providers; Close stops them.
func startDemoProviders() (*demoProviders, error) {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	p := &demoProviders{net: newMemNet(), inbox: newDemoInbox(), token: hex.EncodeToString(tok)}
	p.gwLis = p.net.listen(demoGatewayHost)
	p.gateway = &http.Server{Handler: &demoGateway{inbox: p.inbox, token: p.token}, ReadHeaderTimeout: 10 * time.Second}
	// The same SMTP server the tests use, on an in-memory listener; each distinct
	// message is filed once per recipient.
	p.smtp = channeltest.NewSMTPSinkOn(p.net.listen(demoSMTPHost), func(m channeltest.Mail) {
		for _, to := range m.To {
			p.inbox.add(channel.ChannelEmail+"\x00"+m.MessageID+"\x00"+to, graph.DemoMessage{
				At: m.Received, Channel: channel.ChannelEmail, To: to, Subject: m.Subject, Body: m.Body, Exercise: m.Exercise,
			})
		}
	})
	// No Proxy: a demo message must not leave the process through HTTP_PROXY.
	p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: p.net.DialContext, MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute,
	}}
	p.served.Add(1)
	go func() { defer p.served.Done(); _ = p.gateway.Serve(p.gwLis) }()
	return p, nil
}

// Senders are the demo's providers for SMS, VOICE and EMAIL, with the retries
// of configured providers. FR_ALERT, WEBHOOK and PUSH have none: the demo
// never reaches the State's intake or anyone's server (the prefecture then
// confirms an FR-Alert by hand, as without an intake).
func (p *demoProviders) Senders() map[string]channel.Sender {
	retry := func(s channel.Sender) channel.Sender { return channel.WithRetry(s, channel.Retry{}) }
	return map[string]channel.Sender{
		channel.ChannelSMS:   retry(&channel.HTTPGateway{URL: demoSMSURL, Token: p.token, Client: p.client}),
		channel.ChannelVoice: retry(&channel.HTTPGateway{URL: demoVoiceURL, Token: p.token, Client: p.client}),
		channel.ChannelEmail: retry(&channel.SMTP{Addr: demoSMTPHost, From: demoMailFrom, Dial: p.net.DialContext}),
	}
}

// Inbox is what the providers received, for the dashboard's page.
func (p *demoProviders) Inbox() *demoInbox { return p.inbox }

// demoInboxOf is the gateway's DemoInbox: the demo's, or none (an interface
// holding a nil *demoInbox would not be nil, and the page would be served).
func demoInboxOf(p *demoProviders) graph.DemoInbox {
	if p == nil {
		return nil
	}
	return p.inbox
}

// Close stops the providers and waits for them.
func (p *demoProviders) Close() error {
	p.client.CloseIdleConnections()
	err := p.gateway.Close()
	_ = p.smtp.Close()
	p.served.Wait()
	return err
}

// demoGateway plays an SMS and voice gateway in the format of
// services/alerts/channel/doc.go: bearer token, Idempotency-Key (409 to a key
// already delivered), and a 4xx refusal for demoRefusedPhone.
type demoGateway struct {
	inbox *demoInbox
	token string
}

func (g *demoGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, status, detail string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"status": status, "detail": detail})
	}
	if r.Method != http.MethodPost {
		answer(http.StatusMethodNotAllowed, "refused", "POST uniquement")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		answer(http.StatusUnauthorized, "refused", "jeton d'accès absent ou invalide")
		return
	}
	key := r.Header.Get(channel.HeaderIdempotencyKey)
	if key == "" {
		answer(http.StatusBadRequest, "refused", "en-tête Idempotency-Key absent")
		return
	}
	var in channel.GatewayRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		answer(http.StatusBadRequest, "refused", "corps de requête illisible")
		return
	}
	want := map[string]string{"/sms": channel.ChannelSMS, "/voice": channel.ChannelVoice}[r.URL.Path]
	if want == "" || in.Channel != want {
		answer(http.StatusBadRequest, "refused", fmt.Sprintf("canal %q inattendu sur %s", in.Channel, r.URL.Path))
		return
	}
	if in.To == demoRefusedPhone {
		// 422: permanent for the sender (a 4xx other than 408, 409, 429).
		answer(http.StatusUnprocessableEntity, "refused", "numéro non attribué chez l'opérateur (refus simulé par la passerelle de démonstration)")
		return
	}
	if !g.inbox.add(in.Channel+"\x00"+key, graph.DemoMessage{At: time.Now(), Channel: in.Channel, To: in.To, Body: in.Text, Exercise: in.Exercise}) {
		answer(http.StatusConflict, "duplicate", "message déjà remis")
		return
	}
	answer(http.StatusOK, "delivered", "")
}
