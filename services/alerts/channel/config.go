package channel

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
)

// Config holds the providers' addresses and secrets, from the environment of
// `vigie serve alerts`.
type Config struct {
	SMTPAddr      string // VIGIE_SMTP_ADDR, host:port
	SMTPFrom      string // VIGIE_SMTP_FROM; DefaultSMTPFrom when empty
	SMTPUser      string // VIGIE_SMTP_USER
	SMTPPassword  string // VIGIE_SMTP_PASSWORD
	SMSURL        string // VIGIE_SMS_URL
	VoiceURL      string // VIGIE_VOICE_URL
	GatewayToken  string // VIGIE_GATEWAY_TOKEN, bearer token of the SMS, voice and FR-Alert gateways
	WebhookURL    string // VIGIE_WEBHOOK_URL
	WebhookSecret string // VIGIE_WEBHOOK_SECRET
	FRAlertURL    string // VIGIE_FRALERT_URL, the State's FR-Alert intake (HTTP gateway format)

	// Retry wraps every sender of Senders; zero: DefaultRetry.
	Retry Retry
}

// DefaultSMTPFrom is the sender of the e-mails when SMTPFrom is empty.
const DefaultSMTPFrom = "vigie@localhost"

// setDefaults fills the empty fields that have a default, and only those. Retry
// keeps its zero fields: WithRetry reads them as DefaultRetry's.
func (c *Config) setDefaults() {
	if c.SMTPFrom == "" {
		c.SMTPFrom = DefaultSMTPFrom
	}
}

// Validate reports every problem of the configuration at once, each naming its
// field (and the variable FromEnv reads it from). Empty fields are valid: a
// channel without its address is simply not offered. A problem left here would
// only show when the first alert fails to go out, in the middle of a crisis.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, env, why string, args ...any) {
		errs = append(errs, fmt.Errorf("channel: Config.%s (%s): %s", field, env, fmt.Sprintf(why, args...)))
	}
	if c.SMTPAddr != "" {
		if host, port, err := net.SplitHostPort(c.SMTPAddr); err != nil || host == "" || port == "" {
			bad("SMTPAddr", "VIGIE_SMTP_ADDR", "%q is not host:port", c.SMTPAddr)
		}
	}
	if c.SMTPFrom != "" {
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			bad("SMTPFrom", "VIGIE_SMTP_FROM", "%q is not an e-mail address", c.SMTPFrom)
		}
	}
	if c.SMTPPassword != "" && c.SMTPUser == "" {
		bad("SMTPPassword", "VIGIE_SMTP_PASSWORD", "set without SMTPUser (VIGIE_SMTP_USER): the password would never be sent")
	}
	for _, u := range []struct{ field, env, value string }{
		{"SMSURL", "VIGIE_SMS_URL", c.SMSURL},
		{"VoiceURL", "VIGIE_VOICE_URL", c.VoiceURL},
		{"WebhookURL", "VIGIE_WEBHOOK_URL", c.WebhookURL},
		{"FRAlertURL", "VIGIE_FRALERT_URL", c.FRAlertURL},
	} {
		if u.value != "" && !absoluteHTTP(u.value) {
			// Redacted: the URL may carry a password in its user info.
			bad(u.field, u.env, "%q is not an absolute http(s) URL", redactURL(u.value))
		}
	}
	switch {
	case c.WebhookURL != "" && c.WebhookSecret == "":
		bad("WebhookURL", "VIGIE_WEBHOOK_URL", "set without WebhookSecret (VIGIE_WEBHOOK_SECRET): webhooks are always signed")
	case c.WebhookURL == "" && c.WebhookSecret != "":
		bad("WebhookSecret", "VIGIE_WEBHOOK_SECRET", "set without WebhookURL (VIGIE_WEBHOOK_URL)")
	}
	for _, f := range []struct {
		field string
		neg   bool
	}{
		{"Attempts", c.Retry.Attempts < 0}, {"Base", c.Retry.Base < 0}, {"Max", c.Retry.Max < 0},
	} {
		if f.neg {
			errs = append(errs, fmt.Errorf("channel: Config.Retry.%s: negative (zero means DefaultRetry's)", f.field))
		}
	}
	if c.Retry.Base > 0 && c.Retry.Max > 0 && c.Retry.Max < c.Retry.Base {
		errs = append(errs, fmt.Errorf("channel: Config.Retry.Max: %s is below Base (%s)", c.Retry.Max, c.Retry.Base))
	}
	return errors.Join(errs...)
}

// absoluteHTTP says whether s is an http or https URL with a host, as the senders
// post to.
func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// FromEnv reads the configuration with getenv (os.Getenv, or a map's lookup
// in tests), unchecked: hand it to Validate before Senders.
func FromEnv(getenv func(string) string) Config {
	return Config{
		SMTPAddr:      getenv("VIGIE_SMTP_ADDR"),
		SMTPFrom:      getenv("VIGIE_SMTP_FROM"),
		SMTPUser:      getenv("VIGIE_SMTP_USER"),
		SMTPPassword:  getenv("VIGIE_SMTP_PASSWORD"),
		SMSURL:        getenv("VIGIE_SMS_URL"),
		VoiceURL:      getenv("VIGIE_VOICE_URL"),
		GatewayToken:  getenv("VIGIE_GATEWAY_TOKEN"),
		WebhookURL:    getenv("VIGIE_WEBHOOK_URL"),
		WebhookSecret: getenv("VIGIE_WEBHOOK_SECRET"),
		FRAlertURL:    getenv("VIGIE_FRALERT_URL"),
	}
}

// Senders returns a Sender, with retries, for each configured channel, keyed
// by channel name: EMAIL when SMTPAddr is set, SMS, VOICE and FR_ALERT when
// their URL is, WEBHOOK when both WebhookURL and WebhookSecret are. A channel
// without configuration is absent (PUSH always is): the dispatcher records
// its messages as failures. It does not check c: a configuration from outside
// the program (FromEnv) goes through Validate first.
func (c Config) Senders() map[string]Sender {
	c.setDefaults()
	out := map[string]Sender{}
	add := func(ch string, s Sender) { out[ch] = WithRetry(s, c.Retry) }
	if c.SMTPAddr != "" {
		add(ChannelEmail, &SMTP{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUser, Password: c.SMTPPassword})
	}
	for ch, u := range map[string]string{ChannelSMS: c.SMSURL, ChannelVoice: c.VoiceURL, ChannelFRAlert: c.FRAlertURL} {
		if u != "" {
			add(ch, &HTTPGateway{URL: u, Token: c.GatewayToken})
		}
	}
	if c.WebhookURL != "" && c.WebhookSecret != "" {
		add(ChannelWebhook, &Webhook{URL: c.WebhookURL, Secret: c.WebhookSecret})
	}
	return out
}

// String shows the configuration with secrets masked ("***" when set) and
// passwords in URLs redacted.
func (c Config) String() string {
	return fmt.Sprintf("channel.Config{SMTPAddr:%q SMTPFrom:%q SMTPUser:%q SMTPPassword:%q SMSURL:%q VoiceURL:%q GatewayToken:%q WebhookURL:%q WebhookSecret:%q FRAlertURL:%q}",
		c.SMTPAddr, c.SMTPFrom, c.SMTPUser, mask(c.SMTPPassword),
		redactOpt(c.SMSURL), redactOpt(c.VoiceURL), mask(c.GatewayToken),
		redactOpt(c.WebhookURL), mask(c.WebhookSecret), redactOpt(c.FRAlertURL))
}

// GoString masks secrets in %#v too.
func (c Config) GoString() string { return c.String() }

// LogValue masks secrets in slog records.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func redactOpt(u string) string {
	if u == "" {
		return ""
	}
	return redactURL(u)
}
