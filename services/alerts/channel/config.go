package channel

import (
	"fmt"
	"log/slog"
)

// Config holds the providers' addresses and secrets, from the environment of
// `vigie serve alerts`.
type Config struct {
	SMTPAddr      string // VIGIE_SMTP_ADDR, host:port
	SMTPFrom      string // VIGIE_SMTP_FROM; default vigie@localhost
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

// FromEnv reads the configuration with getenv (os.Getenv, or a map's lookup
// in tests).
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
// its messages as failures.
func (c Config) Senders() map[string]Sender {
	out := map[string]Sender{}
	add := func(ch string, s Sender) { out[ch] = WithRetry(s, c.Retry) }
	if c.SMTPAddr != "" {
		from := c.SMTPFrom
		if from == "" {
			from = "vigie@localhost"
		}
		add(ChannelEmail, &SMTP{Addr: c.SMTPAddr, From: from, Username: c.SMTPUser, Password: c.SMTPPassword})
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
