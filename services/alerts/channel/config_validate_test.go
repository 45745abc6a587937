package channel_test

import (
	"testing"
	"time"

	"vigie/services/alerts/channel"
)

func TestConfigValidate(t *testing.T) {
	valid := channel.Config{
		SMTPAddr: "smtp.test:587", SMTPFrom: "Mairie <alerte@nimes.test>", SMTPUser: "u", SMTPPassword: "p",
		SMSURL: "https://sms.test/send", VoiceURL: "http://127.0.0.1:9000/voice", FRAlertURL: "https://fr-alert.test/intake",
		WebhookURL: "https://hook.test/", WebhookSecret: "s",
		Retry: channel.Retry{Attempts: 2, Base: time.Millisecond, Max: time.Second},
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	if err := (channel.Config{}).Validate(); err != nil {
		t.Fatalf("the empty configuration (no channel) refused: %v", err)
	}
	// The messages in full: they are what an operator reads on stderr.
	for name, tc := range map[string]struct {
		change func(*channel.Config)
		want   string
	}{
		"SMTPAddr without port":     {func(c *channel.Config) { c.SMTPAddr = "smtp.test" }, `channel: Config.SMTPAddr (VIGIE_SMTP_ADDR): "smtp.test" is not host:port`},
		"SMTPAddr without host":     {func(c *channel.Config) { c.SMTPAddr = ":25" }, `channel: Config.SMTPAddr (VIGIE_SMTP_ADDR): ":25" is not host:port`},
		"SMTPFrom not an address":   {func(c *channel.Config) { c.SMTPFrom = "mairie" }, `channel: Config.SMTPFrom (VIGIE_SMTP_FROM): "mairie" is not an e-mail address`},
		"password without user":     {func(c *channel.Config) { c.SMTPUser = "" }, `channel: Config.SMTPPassword (VIGIE_SMTP_PASSWORD): set without SMTPUser (VIGIE_SMTP_USER): the password would never be sent`},
		"SMS URL relative":          {func(c *channel.Config) { c.SMSURL = "/send" }, `channel: Config.SMSURL (VIGIE_SMS_URL): "/send" is not an absolute http(s) URL`},
		"voice URL not http":        {func(c *channel.Config) { c.VoiceURL = "ftp://voice.test/" }, `channel: Config.VoiceURL (VIGIE_VOICE_URL): "ftp://voice.test/" is not an absolute http(s) URL`},
		"FR-Alert URL without host": {func(c *channel.Config) { c.FRAlertURL = "https:///intake" }, `channel: Config.FRAlertURL (VIGIE_FRALERT_URL): "https:///intake" is not an absolute http(s) URL`},
		// A URL's password never shows: the message goes to stderr and the logs.
		"URL with a password": {func(c *channel.Config) { c.SMSURL = "sms://user:url-secret@sms.test/" },
			`channel: Config.SMSURL (VIGIE_SMS_URL): "sms://user:xxxxx@sms.test/" is not an absolute http(s) URL`},
		"webhook URL host:port":  {func(c *channel.Config) { c.WebhookURL = "hook.test:443" }, `channel: Config.WebhookURL (VIGIE_WEBHOOK_URL): "hook.test:443" is not an absolute http(s) URL`},
		"webhook without secret": {func(c *channel.Config) { c.WebhookSecret = "" }, `channel: Config.WebhookURL (VIGIE_WEBHOOK_URL): set without WebhookSecret (VIGIE_WEBHOOK_SECRET): webhooks are always signed`},
		"secret without webhook": {func(c *channel.Config) { c.WebhookURL = "" }, `channel: Config.WebhookSecret (VIGIE_WEBHOOK_SECRET): set without WebhookURL (VIGIE_WEBHOOK_URL)`},
		"negative attempts":      {func(c *channel.Config) { c.Retry.Attempts = -1 }, `channel: Config.Retry.Attempts: negative (zero means DefaultRetry's)`},
		"negative base":          {func(c *channel.Config) { c.Retry.Base = -time.Second }, `channel: Config.Retry.Base: negative (zero means DefaultRetry's)`},
		"negative max":           {func(c *channel.Config) { c.Retry.Max = -time.Second }, `channel: Config.Retry.Max: negative (zero means DefaultRetry's)`},
		"max below base":         {func(c *channel.Config) { c.Retry.Max = time.Microsecond }, `channel: Config.Retry.Max: 1µs is below Base (1ms)`},
		"two problems": {func(c *channel.Config) { c.SMTPAddr = "smtp.test"; c.WebhookSecret = "" },
			`channel: Config.SMTPAddr (VIGIE_SMTP_ADDR): "smtp.test" is not host:port` + "\n" +
				`channel: Config.WebhookURL (VIGIE_WEBHOOK_URL): set without WebhookSecret (VIGIE_WEBHOOK_SECRET): webhooks are always signed`},
	} {
		c := valid
		tc.change(&c)
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: Validate() = %v\nwant %s", name, err, tc.want)
		}
	}
}
