package channel

import (
	"context"
	"errors"
	"fmt"
)

// Channel names, as in Message.Channel.
const (
	ChannelSMS     = "SMS"
	ChannelVoice   = "VOICE"
	ChannelEmail   = "EMAIL"
	ChannelWebhook = "WEBHOOK"
	ChannelFRAlert = "FR_ALERT"
	ChannelPush    = "PUSH"
)

// Message is one alert message for one recipient over one channel.
type Message struct {
	// DeliveryID is stable per alert message × recipient × channel: the
	// idempotency key given to providers. Required.
	DeliveryID string `json:"deliveryId"`
	Channel    string `json:"channel"`
	// To is a phone number, an e-mail address, a URL, or empty (FR_ALERT).
	To         string `json:"to"`
	Language   string `json:"language"`
	Subject    string `json:"subject"`
	Body       string `json:"body"`
	AlertID    string `json:"alertId"`
	Identifier string `json:"identifier"` // the CAP identifier of the message
	Exercise   bool   `json:"exercise"`
}

// Result is the outcome of a successful Send.
type Result struct {
	Delivered bool
	// Duplicate says that the provider already had this DeliveryID (HTTP 409):
	// delivered earlier, not delivered again.
	Duplicate bool
}

// Sender delivers a message over one channel. Implementations are safe for
// concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) (Result, error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) (Result, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) (Result, error) { return f(ctx, m) }

// ErrPermanent is wrapped by errors that retrying cannot cure: the provider
// refused the message (4xx, 5xx SMTP reply), the address is malformed, the
// configuration is wrong. Every other error is temporary.
var ErrPermanent = errors.New("permanent delivery failure")

// Permanent marks err as permanent (errors.Is(err, ErrPermanent)).
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// IsPermanent reports whether err must not be retried.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// StatusError is an HTTP provider's unsuccessful answer.
type StatusError struct {
	Code int
	Body string // the start of the answer's body
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("provider answered HTTP %d", e.Code)
	}
	return fmt.Sprintf("provider answered HTTP %d: %s", e.Code, e.Body)
}

func needID(m Message) error {
	if m.DeliveryID == "" {
		return Permanent(errors.New("message without a DeliveryID (the idempotency key)"))
	}
	return nil
}
