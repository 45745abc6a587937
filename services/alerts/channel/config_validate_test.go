package channel_test

import (
	"strings"
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
	for name, tc := range map[string]struct {
		change func(*channel.Config)
		want   []string // each must appear in the error
	}{
		"SMTPAddr without port":     {func(c *channel.Config) { c.SMTPAddr = "smtp.test" }, []string{"Config.SMTPAddr (VIGIE_SMTP_ADDR)", "not host:port"}},
		"SMTPAddr without host":     {func(c *channel.Config) { c.SMTPAddr = ":25" }, []string{"Config.SMTPAddr", "not host:port"}},
		"SMTPFrom not an address":   {func(c *channel.Config) { c.SMTPFrom = "mairie" }, []string{"Config.SMTPFrom (VIGIE_SMTP_FROM)", "not an e-mail address"}},
		"password without user":     {func(c *channel.Config) { c.SMTPUser = "" }, []string{"Config.SMTPPassword", "without SMTPUser"}},
		"SMS URL relative":          {func(c *channel.Config) { c.SMSURL = "/send" }, []string{"Config.SMSURL (VIGIE_SMS_URL)", "not an absolute http(s) URL"}},
		"voice URL not http":        {func(c *channel.Config) { c.VoiceURL = "ftp://voice.test/" }, []string{"Config.VoiceURL", "not an absolute http(s) URL"}},
		"FR-Alert URL without host": {func(c *channel.Config) { c.FRAlertURL = "https:///intake" }, []string{"Config.FRAlertURL", "not an absolute http(s) URL"}},
		"webhook URL host:port":     {func(c *channel.Config) { c.WebhookURL = "hook.test:443" }, []string{"Config.WebhookURL", "not an absolute http(s) URL"}},
		"webhook without secret":    {func(c *channel.Config) { c.WebhookSecret = "" }, []string{"Config.WebhookURL", "without WebhookSecret"}},
		"secret without webhook":    {func(c *channel.Config) { c.WebhookURL = "" }, []string{"Config.WebhookSecret", "without WebhookURL"}},
		"negative attempts":         {func(c *channel.Config) { c.Retry.Attempts = -1 }, []string{"Config.Retry.Attempts", "negative"}},
		"negative base":             {func(c *channel.Config) { c.Retry.Base = -time.Second }, []string{"Config.Retry.Base", "negative"}},
		"negative max":              {func(c *channel.Config) { c.Retry.Max = -time.Second }, []string{"Config.Retry.Max", "negative"}},
		"max below base":            {func(c *channel.Config) { c.Retry.Max = time.Microsecond }, []string{"Config.Retry.Max", "below Base"}},
		"two problems": {func(c *channel.Config) { c.SMTPAddr = "smtp.test"; c.WebhookSecret = "" },
			[]string{"Config.SMTPAddr", "Config.WebhookURL"}},
	} {
		c := valid
		tc.change(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
}

// A URL's password never shows in Validate's message: it goes to stderr and logs.
func TestConfigValidateRedacts(t *testing.T) {
	err := channel.Config{SMSURL: "sms://user:url-secret@sms.test/"}.Validate()
	if err == nil || strings.Contains(err.Error(), "url-secret") {
		t.Fatalf("Validate = %v", err)
	}
}
