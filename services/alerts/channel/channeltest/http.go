package channeltest

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"vigie/services/alerts/channel"
)

// Post is what HTTPSink keeps of one request: the fields of the gateway
// format and of the webhook's message.
type Post struct {
	Key        string // Idempotency-Key
	Path       string
	DeliveryID string
	Channel    string
	To         string
	Language   string
	Text       string // "text" (gateway) or "body" (webhook), at most BodyLimit bytes
	Subject    string
	AlertID    string
	Identifier string
	Exercise   bool
	Size       int // bytes of the request body
	Received   time.Time
}

// HTTPSink is an HTTP server that plays an SMS, voice or FR-Alert gateway or
// a webhook receiver. It records POSTs by Idempotency-Key and, like a real
// provider, answers 409 Conflict to a key it has already seen (400 without
// one). With a token it answers 401 to requests without "Authorization:
// Bearer <token>"; with a secret, 401 to requests whose X-Vigie-Signature
// does not verify. A GET answers the Stats as JSON.
type HTTPSink struct {
	srv       *http.Server
	ln        net.Listener
	*Counters // Count, Raw, Duplicates, PerRecipient, Stats, Wait, FailNext
	opts      httpOptions
	done      chan struct{}

	mu    sync.Mutex
	posts []Post
}

// HTTPOption configures an HTTPSink.
type HTTPOption func(*httpOptions)

type httpOptions struct{ token, secret string }

// WithToken makes the sink require "Authorization: Bearer <token>".
func WithToken(token string) HTTPOption { return func(o *httpOptions) { o.token = token } }

// WithSecret makes the sink require a valid X-Vigie-Signature (webhooks).
func WithSecret(secret string) HTTPOption { return func(o *httpOptions) { o.secret = secret } }

// NewHTTPSink listens on addr ("" for 127.0.0.1:0) and serves until Close.
func NewHTTPSink(addr string, opts ...HTTPOption) (*HTTPSink, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &HTTPSink{ln: ln, Counters: newCounters(), done: make(chan struct{})}
	for _, o := range opts {
		o(&s.opts)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the host:port the sink listens on.
func (s *HTTPSink) Addr() string { return s.ln.Addr().String() }

// URL is the sink's base URL, http://host:port; any path is accepted.
func (s *HTTPSink) URL() string { return "http://" + s.Addr() }

// Messages are the distinct requests, in order of first reception.
func (s *HTTPSink) Messages() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Close stops the server at once and waits for it.
func (s *HTTPSink) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// ServeHTTP handles one request.
func (s *HTTPSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		StatsHandler(s).ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if s.opts.token != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.token {
		http.Error(w, "bad or missing bearer token", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		}
		return
	}
	if s.opts.secret != "" && !channel.Verify(s.opts.secret, body, r.Header.Get(channel.HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	key := r.Header.Get(channel.HeaderIdempotencyKey)
	if key == "" {
		http.Error(w, "missing Idempotency-Key", http.StatusBadRequest)
		return
	}
	var in struct {
		DeliveryID string `json:"deliveryId"`
		Channel    string `json:"channel"`
		To         string `json:"to"`
		Language   string `json:"language"`
		Text       string `json:"text"`
		Body       string `json:"body"`
		Subject    string `json:"subject"`
		AlertID    string `json:"alertId"`
		Identifier string `json:"identifier"`
		Exercise   bool   `json:"exercise"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, "body is not a JSON object: "+err.Error(), http.StatusBadRequest)
		return
	}
	if code, ok := s.failure(); ok {
		http.Error(w, "injected failure", code)
		return
	}
	text := in.Text
	if text == "" {
		text = in.Body
	}
	if len(text) > BodyLimit {
		text = strings.Clone(text[:BodyLimit])
	}
	p := Post{
		Key: key, Path: r.URL.Path, DeliveryID: in.DeliveryID, Channel: in.Channel, To: in.To,
		Language: in.Language, Text: text, Subject: in.Subject, AlertID: in.AlertID,
		Identifier: in.Identifier, Exercise: in.Exercise, Size: len(body), Received: time.Now(),
	}
	first := s.add(key, []string{in.To}, func() {
		s.mu.Lock()
		s.posts = append(s.posts, p)
		s.mu.Unlock()
	})
	w.Header().Set("Content-Type", "application/json")
	if !first {
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"status":"duplicate"}`)
		return
	}
	io.WriteString(w, `{"status":"delivered"}`)
}
