package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/graph"
	"vigie/identity"
	"vigie/policies"
	"vigie/services/alerts/channel"
)

// The demo's providers speak the real protocols (the HTTP gateway format and its
// answers, SMTP) over the in-memory network: a message is received once whatever the
// resends, the refused number is a permanent failure, and a wrong token is refused.
func TestDemoProvidersSpeakTheProvidersProtocolsInMemory(t *testing.T) {
	p, err := startDemoProviders()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	senders := p.Senders()
	if got := slices.Sorted(maps.Keys(senders)); !slices.Equal(got, []string{"EMAIL", "SMS", "VOICE"}) {
		t.Fatalf("demo senders %v, want EMAIL, SMS and VOICE only", got)
	}
	send := func(ch, id, to string, exercise bool) (channel.Result, error) {
		return senders[ch].Send(ctx, channel.Message{DeliveryID: id, Channel: ch, To: to, Language: "fr", Exercise: exercise,
			Subject: "Évacuation de la rue Bonfa", Body: "Évacuation de la rue Bonfa.\nRejoignez le gymnase Jean Bouin."})
	}
	if r, err := send("SMS", "d-sms-1", "+33600000001", false); err != nil || !r.Delivered || r.Duplicate {
		t.Fatalf("SMS: %+v, %v", r, err)
	}
	// A resend after a dispatcher crash carries the same delivery id: 409, not a second SMS.
	if r, err := send("SMS", "d-sms-1", "+33600000001", false); err != nil || !r.Delivered || !r.Duplicate {
		t.Fatalf("SMS resent: %+v, %v; want a duplicate", r, err)
	}
	if r, err := send("VOICE", "d-voice-1", "+33600000002", true); err != nil || !r.Delivered {
		t.Fatalf("VOICE: %+v, %v", r, err)
	}
	_, err = send("SMS", "d-sms-2", demoRefusedPhone, false)
	var status *channel.StatusError
	if !channel.IsPermanent(err) || !errors.As(err, &status) || status.Code != http.StatusUnprocessableEntity || !strings.Contains(status.Body, "numéro non attribué") {
		t.Fatalf("SMS to the refused number: %v; want a permanent 422 saying « numéro non attribué »", err)
	}
	for range 2 {
		if r, err := send("EMAIL", "d-mail-1", "camille.martin@example.org", true); err != nil || !r.Delivered {
			t.Fatalf("EMAIL: %+v, %v", r, err)
		}
	}
	wrongToken := &channel.HTTPGateway{URL: demoSMSURL, Token: "pas-le-bon", Client: p.client}
	if _, err := wrongToken.Send(ctx, channel.Message{DeliveryID: "d-sms-3", Channel: "SMS", To: "+33600000003", Body: "x"}); !errors.As(err, &status) || status.Code != http.StatusUnauthorized {
		t.Errorf("a request without the gateway's token: %v, want 401", err)
	}
	if _, err := p.net.DialContext(ctx, "tcp", "example.org:80"); err == nil {
		t.Error("the in-memory network dialled an address no demo provider listens on")
	}

	got := p.Inbox().Received()
	if len(got) != 3 {
		t.Fatalf("inbox %+v, want the SMS, the call and the e-mail once each", got)
	}
	want := []graph.DemoMessage{
		{Channel: "SMS", To: "+33600000001", Body: "Évacuation de la rue Bonfa.\nRejoignez le gymnase Jean Bouin."},
		{Channel: "VOICE", To: "+33600000002", Body: "Évacuation de la rue Bonfa.\nRejoignez le gymnase Jean Bouin.", Exercise: true},
		{Channel: "EMAIL", To: "camille.martin@example.org", Subject: "Évacuation de la rue Bonfa", Body: "Évacuation de la rue Bonfa.\nRejoignez le gymnase Jean Bouin.\n", Exercise: true},
	}
	for i, w := range want {
		g := got[i]
		if g.At.IsZero() {
			t.Errorf("message %d has no reception time", i)
		}
		g.At = time.Time{}
		if g != w {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
}

// `vigie serve` uses the providers of its environment and never the demo's; the demo
// uses its own and never the environment's, whose residents are real.
func TestServeTakesProvidersFromTheEnvironmentAndTheDemoOnlyItsOwn(t *testing.T) {
	none := func(string) string { return "" }
	if s := allInOneSenders(none, nil); len(s) != 0 {
		t.Errorf("serve without providers configured has senders for %v", slices.Collect(maps.Keys(s)))
	}
	env := map[string]string{"VIGIE_SMTP_ADDR": "smtp.example.org:587", "VIGIE_FRALERT_URL": "https://fr-alert.example.org/intake"}
	if got := slices.Sorted(maps.Keys(allInOneSenders(func(k string) string { return env[k] }, nil))); !slices.Equal(got, []string{"EMAIL", "FR_ALERT"}) {
		t.Errorf("serve with SMTP and FR-Alert configured: senders %v", got)
	}
	p, err := startDemoProviders()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := allInOneSenders(func(k string) string { return env[k] }, p)
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"EMAIL", "SMS", "VOICE"}) {
		t.Errorf("demo senders %v, want the demo's EMAIL, SMS and VOICE only", keys)
	}
}

// TestDemoDeliversFailsAndCancelsThroughItsInMemoryProviders runs `vigie demo` in this
// process, after `vigie serve`: the demo listens on exactly the sockets serve does
// (its providers add none), serve without providers refuses an SMS alert, and the
// demo's providers received the delivered alert, refused one number (the alert is
// PARTIALLY_SENT, with its reason) and received the cancellation of the cancelled one.
func TestDemoDeliversFailsAndCancelsThroughItsInMemoryProviders(t *testing.T) {
	for _, k := range []string{"REDIS_URL", "EVENTSTORE_URL", "VIGIE_DATA", "VIGIE_HTTP_ADDR", "VIGIE_OIDC_ISSUER", "VIGIE_OIDC_CLIENT_ID",
		"VIGIE_SMTP_ADDR", "VIGIE_SMTP_FROM", "VIGIE_SMTP_USER", "VIGIE_SMTP_PASSWORD", "VIGIE_SMS_URL", "VIGIE_VOICE_URL",
		"VIGIE_GATEWAY_TOKEN", "VIGIE_WEBHOOK_URL", "VIGIE_WEBHOOK_SECRET", "VIGIE_FRALERT_URL",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(k, "")
	}
	hc := &http.Client{Timeout: 15 * time.Second}
	const nimes = "dep:30/com:30189"

	// serve, for the sockets an all-in-one process opens and the channels it offers.
	before := listeningSockets(t)
	serveData := t.TempDir()
	srv := startInProcess(t, func(ctx context.Context, stdout, stderr io.Writer) int {
		return run(ctx, []string{"serve", "--data", serveData, "--http", "127.0.0.1:0"}, stdout, stderr)
	})
	serveSockets := newSockets(before, listeningSockets(t))
	rac := issueToken(t, serveData, "rac-nimes", "rac", nimes)
	gql := &gqlClient{t: t, http: hc, url: srv.addr + "/graphql"}
	r, _, raw := gql.send(rac, alertDraft, vistreAlert(nimes, "SMS", "CAP_FEED"))
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "INVALID_INPUT" {
		t.Errorf("serve without providers drafting on SMS: %s; want INVALID_INPUT (only CAP_FEED and FR_ALERT offered)", raw)
	}
	srv.stop(t)

	// The demo, with its providers in this test's hands (started after the first look
	// at the sockets, so that a port they opened would count).
	before = listeningSockets(t)
	prov, err := startDemoProviders()
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()
	demoData := t.TempDir()
	d := startInProcess(t, func(ctx context.Context, stdout, stderr io.Writer) int {
		return runDemo(ctx, "demo", []string{"--data", demoData, "--http", "127.0.0.1:0"}, stdout, stderr, prov)
	})
	defer d.stop(t)
	demoSockets := newSockets(before, listeningSockets(t))
	t.Logf("serve listens on %v, the demo on %v", serveSockets, demoSockets)
	// The all-in-one's own loopback listeners (event store, read models, services'
	// gRPC) are serve's too; the providers must add none.
	if len(demoSockets) != len(serveSockets) {
		t.Errorf("the demo listens on %d TCP sockets %v, serve on %d %v: the demo's providers opened a port", len(demoSockets), demoSockets, len(serveSockets), serveSockets)
	}
	gatewayAddr := strings.TrimPrefix(d.addr, "http://")
	if !slices.Contains(demoSockets, gatewayAddr) {
		t.Errorf("the gateway's %s is not among the demo's listening sockets %v", gatewayAddr, demoSockets)
	}
	for _, a := range demoSockets {
		if host, _, _ := net.SplitHostPort(a); !net.ParseIP(host).IsLoopback() {
			t.Errorf("the demo listens on %s, off loopback", a)
		}
	}

	// The demo prints the same tokens as before.
	tokens := map[string]string{}
	for _, p := range demoPeople {
		for _, l := range d.before {
			if rest, ok := strings.CutPrefix(l, "  "+p.who+":"); ok {
				tokens[p.sub] = strings.TrimSpace(rest)
			}
		}
		if tokens[p.sub] == "" {
			t.Fatalf("no token printed for %s in %q", p.who, d.before)
		}
	}
	mayor := tokens["maire-nimes"]
	gql = &gqlClient{t: t, http: hc, url: d.addr + "/graphql"}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inbox := prov.Inbox()
	received := func(headline string) map[string][]string {
		got := map[string][]string{}
		for _, m := range inbox.Received() {
			if strings.Contains(m.Body, headline) && !strings.HasPrefix(m.Body, "ANNULATION") && !strings.HasPrefix(m.Subject, "ANNULATION") {
				got[m.Channel] = append(got[m.Channel], m.To)
			}
		}
		for _, v := range got {
			slices.Sort(v)
		}
		return got
	}
	richelieu := map[string][]string{
		"SMS":   {"+33600000001", "+33600000002", "+33600000003"},
		"EMAIL": {"camille.martin@example.org", "ines.petit@example.org", "lucas.bernard@example.org"},
	}
	// The delivered alert reached every resident of its area on SMS and e-mail, once.
	if got := received("Crue des cadereaux : montez à l'étage"); !equalRecipients(got, richelieu) {
		t.Errorf("the delivered alert reached %v, want %v", got, richelieu)
	}
	// The partly failed one reached the route de Sauve, but for the refused number.
	sauve := map[string][]string{"SMS": {"+33600000005"}, "EMAIL": {"hugo.robert@example.org"}}
	if got := received("Route de Sauve coupée au pont du Vistre"); !equalRecipients(got, sauve) {
		t.Errorf("the partly failed alert reached %v, want %v", got, sauve)
	}
	for _, m := range inbox.Received() {
		if m.To == demoRefusedPhone {
			t.Errorf("the refused number received %+v", m)
		}
	}
	// The cancelled one: its recipients, and only they, hear of the cancellation once.
	if got := received("Évacuation de la rue Bonfa"); !equalRecipients(got, richelieu) {
		t.Errorf("the cancelled alert first reached %v, want %v", got, richelieu)
	}
	cancellations := func(msgs []graph.DemoMessage) map[string][]string {
		got := map[string][]string{}
		for _, m := range msgs {
			if strings.HasPrefix(m.Body, "ANNULATION : ") || strings.HasPrefix(m.Subject, "ANNULATION : ") {
				got[m.Channel] = append(got[m.Channel], m.To)
			}
		}
		for _, v := range got {
			slices.Sort(v)
		}
		return got
	}
	if err := inbox.wait(ctx, func(msgs []graph.DemoMessage) bool { return equalRecipients(cancellations(msgs), richelieu) }); err != nil {
		t.Errorf("cancellation messages %v, want « ANNULATION : … » to %v: %v", cancellations(inbox.Received()), richelieu, err)
	}

	// What the board says, through GraphQL.
	type delivery struct {
		Channel, State string
		Reason         *string
		Sent, Failed   int
	}
	type boardAlert struct {
		ID, Headline, Status string
		Deliveries           []delivery
	}
	board := func() map[string]boardAlert {
		var list []boardAlert
		gql.query(mayor, `query($d: String!){ alerts(domain: $d){ id headline status deliveries { channel state reason sent failed } } }`,
			map[string]any{"d": nimes}, "alerts", &list)
		out := map[string]boardAlert{}
		for _, a := range list {
			out[a.Headline] = a
		}
		return out
	}
	var alerts map[string]boardAlert
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		alerts = board()
		if alerts["Route de Sauve coupée au pont du Vistre"].Status == "PARTIALLY_SENT" || time.Now().After(deadline) {
			break
		}
	}
	for headline, status := range map[string]string{
		"Crue des cadereaux : montez à l'étage":   "SENT",
		"Route de Sauve coupée au pont du Vistre": "PARTIALLY_SENT",
		"Évacuation de la rue Bonfa":              "CANCELLED",
		"Crue majeure : ne sortez pas":            "FR_ALERT_REQUESTED",
		"Fermeture des écoles demain":             "PENDING_APPROVAL",
	} {
		if got := alerts[headline].Status; got != status {
			t.Errorf("%q is %q, want %s", headline, got, status)
		}
	}
	var sms *delivery
	for i, dl := range alerts["Route de Sauve coupée au pont du Vistre"].Deliveries {
		if dl.Channel == "SMS" {
			sms = &alerts["Route de Sauve coupée au pont du Vistre"].Deliveries[i]
		}
	}
	switch {
	case sms == nil:
		t.Errorf("the partly failed alert has no SMS delivery: %+v", alerts["Route de Sauve coupée au pont du Vistre"])
	case sms.State != "PARTIAL" || sms.Failed != 1 || sms.Sent != 2:
		t.Errorf("its SMS channel: %+v, want PARTIAL, 2 sent, 1 failed", *sms)
	case sms.Reason == nil || *sms.Reason == "" || strings.Contains(*sms.Reason, "provider"):
		t.Errorf("its SMS channel's reason %v, want why in French", sms.Reason)
	default:
		t.Logf("SMS of the partly failed alert: %s", *sms.Reason)
	}
	for _, dl := range alerts["Crue des cadereaux : montez à l'étage"].Deliveries {
		if dl.State != "DELIVERED" {
			t.Errorf("the delivered alert's %s channel is %s", dl.Channel, dl.State)
		}
	}
}

func equalRecipients(got, want map[string][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for ch, w := range want {
		if !slices.Equal(got[ch], w) {
			return false
		}
	}
	return true
}

// issueToken signs a token with the key of a data directory, as `vigie token` does.
func issueToken(t *testing.T, data, sub, role, domain string) string {
	t.Helper()
	key, err := identity.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := identity.Issue(key, identity.Claims{Subject: sub, Grants: []policies.Grant{{Role: role, Domain: domain}}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// inProcess is a vigie command run in the test's own process, so that its sockets are
// the test's and its providers' inbox can be read.
type inProcess struct {
	addr   string   // the gateway's URL, from the "listening on" line
	before []string // stdout lines before it (the demo's tokens)
	cancel context.CancelFunc
	code   chan int
	stderr *lockedBuffer
}

func startInProcess(t *testing.T, fn func(ctx context.Context, stdout, stderr io.Writer) int) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &inProcess{cancel: cancel, code: make(chan int, 1), stderr: &lockedBuffer{}}
	go func() {
		code := fn(ctx, pw, p.stderr)
		pw.Close()
		p.code <- code
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(pr)
		for s.Scan() {
			lines <- s.Text()
		}
		io.Copy(io.Discard, pr)
	}()
	timeout := time.After(readyTimeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				cancel()
				t.Fatalf("exited before listening (code %d); stderr:\n%s", <-p.code, p.stderr)
			}
			if addr, ok := strings.CutPrefix(l, "listening on "); ok {
				p.addr = addr
				go func() {
					for range lines {
					}
				}()
				t.Cleanup(func() { p.cancel() })
				return p
			}
			p.before = append(p.before, l)
		case <-timeout:
			cancel()
			t.Fatalf("no \"listening on\" line within %v; stderr:\n%s", readyTimeout, p.stderr)
		}
	}
}

// stop cancels the command and asserts a clean exit; a second call does nothing.
func (p *inProcess) stop(t *testing.T) {
	t.Helper()
	if p.code == nil {
		return
	}
	p.cancel()
	select {
	case code := <-p.code:
		if code != exitOK {
			t.Errorf("exit code %d; stderr:\n%s", code, p.stderr)
		}
	case <-time.After(stopTimeout):
		t.Errorf("still running %v after its context ended; stderr:\n%s", stopTimeout, p.stderr)
	}
	p.code = nil
}

// listeningSockets lists the TCP sockets this process listens on, as host:port, from
// /proc: the kernel's view, whoever opened them.
func listeningSockets(t *testing.T) []string {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("listing this process's sockets: %v", err)
	}
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil {
			if inode, ok := strings.CutPrefix(link, "socket:["); ok {
				mine[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	var out []string
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(table, "6") {
				continue // no IPv6 in this kernel
			}
			t.Fatal(err)
		}
		s := bufio.NewScanner(f)
		s.Scan() // header
		for s.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fields := strings.Fields(s.Text())
			if len(fields) < 10 || fields[3] != "0A" || !mine[fields[9]] { // 0A: LISTEN
				continue
			}
			out = append(out, procAddr(t, fields[1]))
		}
		f.Close()
	}
	slices.Sort(out)
	return out
}

// procAddr decodes /proc/net/tcp's "0100007F:1F90": the address in 32-bit words of
// host byte order (little-endian here), the port in hex.
func procAddr(t *testing.T, s string) string {
	t.Helper()
	hexIP, hexPort, _ := strings.Cut(s, ":")
	b, err := hex.DecodeString(hexIP)
	port, perr := strconv.ParseUint(hexPort, 16, 16)
	if err != nil || perr != nil || len(b)%4 != 0 {
		t.Fatalf("unreadable /proc address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.JoinHostPort(net.IP(b).String(), fmt.Sprint(port))
}

// newSockets are the sockets of after not in before.
func newSockets(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			out = append(out, a)
		}
	}
	return out
}
