// Package channel delivers one alert message to one recipient over one
// channel: e-mail over SMTP, SMS and voice (and the State's FR-Alert intake)
// through an HTTP gateway, and HMAC-signed webhooks. The dispatcher of the
// alerts service gives every message a DeliveryID, stable per alert message ×
// recipient × channel; every adapter hands it to the provider as an
// idempotency key, so that a resend after a crash of the dispatcher mid-send
// is recognised by the provider as the same message and not delivered twice.
//
// # Outcomes
//
// Send returns Result{Delivered: true} when the provider took the message (or
// said it already had it), an error wrapping ErrPermanent when retrying cannot
// help (a 4xx answer, a bad address, a missing DeliveryID), and any other
// error when it may (a 5xx answer, a timeout, a refused connection). WithRetry
// retries the latter with exponential backoff and jitter.
//
// # HTTP gateway request format (SMS, VOICE, FR_ALERT)
//
// HTTPGateway sends each message as one request:
//
//	POST <URL>
//	Content-Type: application/json
//	Authorization: Bearer <token>          (omitted when no token is configured)
//	Idempotency-Key: <deliveryId>
//	User-Agent: vigie-alerts
//
//	{"deliveryId":"…","channel":"SMS","to":"+33612345678","language":"fr","text":"…","exercise":false}
//
// Fields, all present in every request:
//
//   - deliveryId (string): the idempotency key, equal to the Idempotency-Key
//     header; the same value for every attempt of the same message to the
//     same recipient over the same channel.
//   - channel (string): "SMS", "VOICE" or "FR_ALERT".
//   - to (string): the recipient, a phone number in E.164 form for SMS and
//     VOICE; for FR_ALERT, what the dispatcher gives (may be empty: cell
//     broadcast has no recipient).
//   - language (string): a BCP 47 tag ("fr", "en", "oc"…), for text-to-speech
//     and templates; may be empty.
//   - text (string): the text to send or to read out, UTF-8.
//   - exercise (boolean): true for an exercise; the text then already starts
//     with "EXERCICE".
//
// The gateway answers:
//
//   - 2xx: delivered (accepted for delivery).
//   - 409 Conflict: this Idempotency-Key was already delivered; counted as
//     delivered (Result.Duplicate is set) and not sent again.
//   - 408 and 429: temporary, retried.
//   - any other 3xx or 4xx (redirects are followed first): permanent
//     failure, not retried (bad number, bad token, malformed request).
//   - 5xx, or no answer within the client's timeout: temporary, retried with
//     the same Idempotency-Key.
//
// # Webhook
//
// Webhook POSTs the JSON of the Message (field names as its json tags) with
// the headers Idempotency-Key: <deliveryId>, X-Vigie-Timestamp: <Unix
// seconds> and X-Vigie-Signature: sha256=<hex HMAC-SHA256 of the exact
// request body, keyed with the shared secret>. Receivers check the signature
// with Verify and de-duplicate on Idempotency-Key (the body carries the
// deliveryId too, so a replayed body is a replayed delivery). Answers are read
// as for the gateway.
//
// # E-mail
//
// SMTP sends a text/plain UTF-8 message (quoted-printable) whose Message-ID
// is <DeliveryID@vigie>, so that a resend is the same message to mailbox
// providers, with the headers Idempotency-Key and X-Vigie-Delivery set to the
// DeliveryID (and X-Vigie-Alert, X-Vigie-Identifier, X-Vigie-Exercise).
// Connections are kept open and reused between messages.
//
// # Configuration
//
// FromEnv reads the providers' addresses and secrets (VIGIE_SMTP_*, VIGIE_SMS_URL,
// VIGIE_VOICE_URL, VIGIE_GATEWAY_TOKEN, VIGIE_WEBHOOK_*, VIGIE_FRALERT_URL);
// Config.Senders builds one Sender per configured channel. Config.String
// masks secrets. The package channeltest has local SMTP and HTTP sinks for
// tests.
package channel
