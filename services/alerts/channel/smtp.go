package channel

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// SMTP sends e-mail through an SMTP server (STARTTLS when the server offers
// it; PLAIN authentication when Username is set). The zero value is not
// usable: set Addr and From. Connections are reused between messages; Close
// ends the idle ones.
type SMTP struct {
	Addr     string // host:port
	From     string // envelope and header sender, e.g. "Mairie de Nîmes <alertes@nimes.fr>"
	Username string
	Password string
	Timeout  time.Duration // per message, including connection; 0: 30 s
	MaxIdle  int           // idle connections kept for reuse; 0: 8, negative: none
	// Dial opens the connection to Addr; nil: TCP. The demo reaches its SMTP
	// server over an in-memory connection with it, so it opens no port.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu   sync.Mutex
	idle []*smtpConn
}

type smtpConn struct {
	conn net.Conn
	c    *smtp.Client
}

// Send sends m.Subject and m.Body to m.To.
func (s *SMTP) Send(ctx context.Context, m Message) (Result, error) {
	if err := needID(m); err != nil {
		return Result{}, err
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return Result{}, Permanent(fmt.Errorf("bad sender address %q: %w", s.From, err))
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return Result{}, Permanent(fmt.Errorf("bad recipient address: %w", err))
	}
	data, err := composeMail(from, to, m, time.Now())
	if err != nil {
		return Result{}, Permanent(err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// A reused connection may have been closed by the server while idle: if
	// it fails before any data is sent, try once more on a new one.
	for reused := true; ; reused = false {
		var sc *smtpConn
		if reused {
			sc = s.takeIdle()
		}
		if sc == nil {
			reused = false
			if sc, err = s.dial(ctx); err != nil {
				return Result{}, classifySMTP(err)
			}
		}
		started, clean, err := sc.transaction(ctx, from.Address, to.Address, data)
		if err == nil {
			if clean {
				s.putIdle(sc)
			} else {
				sc.conn.Close()
			}
			return Result{Delivered: true}, nil
		}
		var tpErr *textproto.Error
		if clean && errors.As(err, &tpErr) && tpErr.Code != 421 {
			// The server refused this message but the session is fine.
			if sc.c.Reset() == nil {
				s.putIdle(sc)
			} else {
				sc.conn.Close()
			}
			return Result{}, classifySMTP(err)
		}
		sc.conn.Close()
		if !reused || started || ctx.Err() != nil {
			return Result{}, classifySMTP(err)
		}
	}
}

// transaction runs MAIL, RCPT and DATA. started says whether message data
// may have reached the server, clean whether the connection may be reused
// (the context did not interrupt it).
func (sc *smtpConn) transaction(ctx context.Context, from, to string, data []byte) (started, clean bool, err error) {
	deadline, _ := ctx.Deadline()
	sc.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { sc.conn.SetDeadline(time.Unix(1, 0)) })
	defer func() { clean = stop() }()
	if err := sc.c.Mail(from); err != nil {
		return false, false, err
	}
	if err := sc.c.Rcpt(to); err != nil {
		return false, false, err
	}
	w, err := sc.c.Data()
	if err != nil {
		return false, false, err
	}
	if _, err := w.Write(data); err != nil {
		return true, false, err
	}
	return true, false, w.Close()
}

func (s *SMTP) dial(ctx context.Context) (*smtpConn, error) {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, Permanent(fmt.Errorf("bad SMTP address %q: %w", s.Addr, err))
	}
	dial := s.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err == nil {
		err = s.hello(c, host)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &smtpConn{conn: conn, c: c}, nil
}

func (s *SMTP) hello(c *smtp.Client, host string) error {
	if err := c.Hello("vigie"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if s.Username != "" {
		// PlainAuth refuses to send the password unencrypted except to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			var tpErr *textproto.Error
			if !errors.As(err, &tpErr) {
				err = Permanent(err) // e.g. no TLS to protect the password
			}
			return err
		}
	}
	return nil
}

func (s *SMTP) takeIdle() *smtpConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.idle); n > 0 {
		sc := s.idle[n-1]
		s.idle = s.idle[:n-1]
		return sc
	}
	return nil
}

func (s *SMTP) putIdle(sc *smtpConn) {
	sc.conn.SetDeadline(time.Time{})
	max := s.MaxIdle
	if max == 0 {
		max = 8
	}
	s.mu.Lock()
	if len(s.idle) < max {
		s.idle = append(s.idle, sc)
		sc = nil
	}
	s.mu.Unlock()
	if sc != nil {
		sc.c.Quit()
		sc.conn.Close()
	}
}

// Close ends the idle connections (QUIT). s stays usable.
func (s *SMTP) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, sc := range idle {
		sc.conn.SetDeadline(time.Now().Add(2 * time.Second))
		sc.c.Quit()
		sc.conn.Close()
	}
	return nil
}

// String describes s without its password.
func (s *SMTP) String() string {
	return fmt.Sprintf("SMTP{Addr:%s From:%s Username:%s Password:%s}", s.Addr, s.From, s.Username, mask(s.Password))
}

// classifySMTP marks 5xx replies (and configuration errors) permanent; 4xx
// replies and network errors stay temporary.
func classifySMTP(err error) error {
	var tpErr *textproto.Error
	if errors.As(err, &tpErr) && tpErr.Code >= 500 {
		return Permanent(err)
	}
	return err
}

// MessageID is the Message-ID header of the e-mail for a delivery id:
// <DeliveryID@vigie>, with any byte that may not appear in a message id
// written %XX, so that the same delivery id always gives the same header.
func MessageID(deliveryID string) string {
	var b strings.Builder
	b.WriteByte('<')
	for i := 0; i < len(deliveryID); i++ {
		c := deliveryID[i]
		if isAtext(c) && c != '%' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteString("@vigie>")
	return b.String()
}

func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// headerValue keeps a value on one line (no header injection).
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// composeMail writes the message (CRLF line ends; the SMTP client does the
// dot-stuffing).
func composeMail(from, to *mail.Address, m Message, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", headerValue(m.Subject)))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", MessageID(m.DeliveryID))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	if m.Language != "" {
		hdr("Content-Language", headerValue(m.Language))
	}
	id := mime.QEncoding.Encode("utf-8", headerValue(m.DeliveryID))
	hdr(HeaderIdempotencyKey, id)
	hdr("X-Vigie-Delivery", id)
	if m.AlertID != "" {
		hdr("X-Vigie-Alert", mime.QEncoding.Encode("utf-8", headerValue(m.AlertID)))
	}
	if m.Identifier != "" {
		hdr("X-Vigie-Identifier", mime.QEncoding.Encode("utf-8", headerValue(m.Identifier)))
	}
	if m.Exercise {
		hdr("X-Vigie-Exercise", "true")
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}
