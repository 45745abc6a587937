package channeltest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Mail is what SMTPSink keeps of one message.
type Mail struct {
	From       string   // envelope sender (MAIL FROM)
	To         []string // envelope recipients (RCPT TO)
	MessageID  string
	Subject    string // decoded
	DeliveryID string // X-Vigie-Delivery
	AlertID    string // X-Vigie-Alert
	Identifier string // X-Vigie-Identifier
	Language   string // Content-Language
	Exercise   bool   // X-Vigie-Exercise: true
	Body       string // decoded, LF line ends, at most BodyLimit bytes
	Size       int    // bytes of the whole message as received (after dot-unstuffing)
	Received   time.Time
}

// SMTPSink is a minimal SMTP server (EHLO/HELO, AUTH PLAIN accepted from
// anyone, MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT) that keeps what it
// receives, de-duplicated by Message-ID.
type SMTPSink struct {
	ln        net.Listener
	*Counters // Count, Raw, Duplicates, PerRecipient, Stats, Wait, FailNext

	onMail func(Mail) // each distinct message, as it is kept; may be nil

	mu     sync.Mutex
	mails  []Mail
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewSMTPSink listens on addr ("" for 127.0.0.1:0) and serves until Close.
func NewSMTPSink(addr string) (*SMTPSink, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewSMTPSinkOn(ln, nil), nil
}

// NewSMTPSinkOn serves on ln until Close, calling onMail (when not nil) with each
// distinct message as it is kept. `vigie demo` serves it on an in-memory
// listener, so its mail reaches the demo's page without opening a port.
func NewSMTPSinkOn(ln net.Listener, onMail func(Mail)) *SMTPSink {
	s := &SMTPSink{ln: ln, Counters: newCounters(), conns: map[net.Conn]struct{}{}, onMail: onMail}
	s.wg.Add(1)
	go s.accept()
	return s
}

// Addr is the host:port the sink listens on.
func (s *SMTPSink) Addr() string { return s.ln.Addr().String() }

// Messages are the distinct messages, in order of first reception.
func (s *SMTPSink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Close stops listening, ends the open sessions and waits for them.
func (s *SMTPSink) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *SMTPSink) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

const idleTimeout = 5 * time.Minute

// serve runs one SMTP session.
func (s *SMTPSink) serve(c net.Conn) {
	r := textproto.NewReader(bufio.NewReader(c))
	w := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l)
			w.WriteString("\r\n")
		}
		return w.Flush() == nil
	}
	if !reply("220 vigie-sink ESMTP") {
		return
	}
	var from string
	var rcpts []string
	inMail := false
	for {
		c.SetDeadline(time.Now().Add(idleTimeout))
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		var ok bool
		switch strings.ToUpper(verb) {
		case "EHLO":
			from, rcpts, inMail = "", nil, false
			ok = reply("250-vigie-sink", "250-8BITMIME", "250-SMTPUTF8", "250-AUTH PLAIN", "250 HELP")
		case "HELO":
			from, rcpts, inMail = "", nil, false
			ok = reply("250 vigie-sink")
		case "AUTH":
			ok = s.auth(r, arg, reply)
		case "MAIL":
			addr, good := pathArg(arg, "FROM:")
			switch {
			case !good:
				ok = reply("501 syntax: MAIL FROM:<address>")
			case inMail:
				ok = reply("503 nested MAIL command")
			default:
				from, rcpts, inMail = addr, nil, true
				ok = reply("250 OK")
			}
		case "RCPT":
			addr, good := pathArg(arg, "TO:")
			switch {
			case !inMail:
				ok = reply("503 need MAIL before RCPT")
			case !good || addr == "":
				ok = reply("501 syntax: RCPT TO:<address>")
			default:
				rcpts = append(rcpts, addr)
				ok = reply("250 OK")
			}
		case "DATA":
			if !inMail || len(rcpts) == 0 {
				ok = reply("503 need RCPT before DATA")
				break
			}
			if !reply("354 end data with <CR><LF>.<CR><LF>") {
				return
			}
			m, err := readMail(r.DotReader())
			if err != nil {
				return
			}
			m.From, m.To = from, rcpts
			from, rcpts, inMail = "", nil, false
			ok = reply(s.store(m))
		case "RSET":
			from, rcpts, inMail = "", nil, false
			ok = reply("250 OK")
		case "NOOP":
			ok = reply("250 OK")
		case "VRFY":
			ok = reply("252 cannot verify, will accept")
		case "QUIT":
			reply("221 bye")
			return
		default:
			ok = reply("502 command not implemented")
		}
		if !ok {
			return
		}
	}
}

// auth accepts AUTH PLAIN with any credentials, inline or after a 334.
func (s *SMTPSink) auth(r *textproto.Reader, arg string, reply func(...string) bool) bool {
	mech, resp, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		return reply("504 only AUTH PLAIN")
	}
	if resp == "" {
		if !reply("334 ") {
			return false
		}
		var err error
		if resp, err = r.ReadLine(); err != nil {
			return false
		}
	}
	if resp == "*" {
		return reply("501 authentication cancelled")
	}
	if _, err := base64.StdEncoding.DecodeString(resp); err != nil {
		return reply("501 bad base64")
	}
	return reply("235 authentication succeeded")
}

// store records m (unless a failure is injected) and returns the reply.
func (s *SMTPSink) store(m Mail) string {
	if code, ok := s.failure(); ok {
		return fmt.Sprintf("%d injected failure", code)
	}
	m.Received = time.Now()
	s.add(m.MessageID, m.To, func() {
		s.mu.Lock()
		s.mails = append(s.mails, m)
		s.mu.Unlock()
		if s.onMail != nil {
			s.onMail(m)
		}
	})
	return "250 OK queued"
}

// pathArg parses "FROM:<addr> PARAMS" (prefix "FROM:") into addr.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	p := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(p, "<") {
		return "", false
	}
	end := strings.IndexByte(p, '>')
	if end < 0 {
		return "", false
	}
	return p[1:end], true
}

var wordDecoder = mime.WordDecoder{}

// readMail reads a dot-unstuffed message to its end, keeping the headers
// that matter and the start of the decoded body.
func readMail(data io.Reader) (Mail, error) {
	cr := &countingReader{r: data}
	var m Mail
	msg, err := mail.ReadMessage(bufio.NewReader(cr))
	if err != nil {
		// Not a parsable message: keep it as a keyless reception.
		_, err = io.Copy(io.Discard, cr)
		m.Size = cr.n
		return m, err
	}
	h := msg.Header
	m.MessageID = strings.TrimSpace(h.Get("Message-ID"))
	dec := func(v string) string {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m.Subject = dec(h.Get("Subject"))
	m.DeliveryID = dec(h.Get("X-Vigie-Delivery"))
	m.AlertID = dec(h.Get("X-Vigie-Alert"))
	m.Identifier = dec(h.Get("X-Vigie-Identifier"))
	m.Language = h.Get("Content-Language")
	m.Exercise = strings.EqualFold(h.Get("X-Vigie-Exercise"), "true")
	var body io.Reader = msg.Body
	if strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	// A badly encoded body keeps what was decoded before the fault.
	start, _ := io.ReadAll(io.LimitReader(body, BodyLimit))
	m.Body = string(start)
	// Whatever the headers and body were, read on to the final dot.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return m, err
	}
	m.Size = cr.n
	return m, nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
