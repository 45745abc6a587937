package channel

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Header names shared by the HTTP adapters and their receivers.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderSignature      = "X-Vigie-Signature"
	HeaderTimestamp      = "X-Vigie-Timestamp"
)

// defaultClient is used when an adapter has no Client: a bounded timeout, so
// that a stuck provider is a temporary failure and not a stuck dispatcher, and
// enough idle connections per provider for a concurrent dispatch to reuse
// them (the standard transport keeps 2).
var defaultClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}()

// HTTPGateway sends SMS, voice calls and FR-Alert requests through an HTTP
// gateway, in the request format of the package documentation.
type HTTPGateway struct {
	URL    string
	Token  string       // bearer token; no Authorization header when empty
	Client *http.Client // nil: a client with a 30 s timeout
}

// GatewayRequest is the JSON body of an HTTPGateway request.
type GatewayRequest struct {
	DeliveryID string `json:"deliveryId"`
	Channel    string `json:"channel"`
	To         string `json:"to"`
	Language   string `json:"language"`
	Text       string `json:"text"`
	Exercise   bool   `json:"exercise"`
}

// Send posts m to the gateway.
func (g *HTTPGateway) Send(ctx context.Context, m Message) (Result, error) {
	if err := needID(m); err != nil {
		return Result{}, err
	}
	body, err := json.Marshal(GatewayRequest{
		DeliveryID: m.DeliveryID, Channel: m.Channel, To: m.To,
		Language: m.Language, Text: m.Body, Exercise: m.Exercise,
	})
	if err != nil {
		return Result{}, Permanent(err)
	}
	h := http.Header{}
	if g.Token != "" {
		h.Set("Authorization", "Bearer "+g.Token)
	}
	return post(ctx, g.Client, g.URL, m.DeliveryID, body, h)
}

// String describes g without its token.
func (g *HTTPGateway) String() string {
	return fmt.Sprintf("HTTPGateway{URL:%s Token:%s}", redactURL(g.URL), mask(g.Token))
}

// Webhook POSTs the JSON of each message, signed with HMAC-SHA256.
type Webhook struct {
	// URL receives every message; when empty, each message goes to its own
	// To, which must then be an http(s) URL.
	URL    string
	Secret string
	Client *http.Client // nil: a client with a 30 s timeout
}

// Send posts m, signed.
func (w *Webhook) Send(ctx context.Context, m Message) (Result, error) {
	if err := needID(m); err != nil {
		return Result{}, err
	}
	if w.Secret == "" {
		return Result{}, Permanent(errors.New("webhook without a secret: nothing to sign with"))
	}
	target := w.URL
	if target == "" {
		target = m.To
	}
	body, err := json.Marshal(m)
	if err != nil {
		return Result{}, Permanent(err)
	}
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	h.Set(HeaderSignature, Sign(w.Secret, body))
	return post(ctx, w.Client, target, m.DeliveryID, body, h)
}

// String describes w without its secret.
func (w *Webhook) String() string {
	return fmt.Sprintf("Webhook{URL:%s Secret:%s}", redactURL(w.URL), mask(w.Secret))
}

// Sign returns the X-Vigie-Signature value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header (the X-Vigie-Signature value a receiver got)
// is the signature of body with secret. The comparison is constant-time.
func Verify(secret string, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// post sends one JSON request and reads the answer as the package
// documentation says.
func post(ctx context.Context, client *http.Client, target, key string, body []byte, h http.Header) (Result, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, Permanent(fmt.Errorf("bad endpoint URL %q", redactURL(target)))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Result{}, Permanent(err)
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigie-alerts")
	req.Header.Set(HeaderIdempotencyKey, key)
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// Transport errors and timeouts: temporary. *url.Error carries the
		// URL, which may hold credentials: report the redacted one.
		var ue *url.Error
		if errors.As(err, &ue) {
			return Result{}, fmt.Errorf("POST %s: %w", redactURL(target), ue.Err)
		}
		return Result{}, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return Result{Delivered: true}, nil
	case code == http.StatusConflict:
		return Result{Delivered: true, Duplicate: true}, nil
	default:
		serr := &StatusError{Code: code, Body: strings.TrimSpace(string(snippet))}
		if code >= 300 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
			return Result{}, Permanent(serr)
		}
		return Result{}, serr
	}
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "***"
}

// redactURL hides a password in a URL's user info.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
