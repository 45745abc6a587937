package channel_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"vigie/services/alerts/channel"
)

func TestConfig(t *testing.T) {
	env := map[string]string{
		"VIGIE_SMTP_ADDR":      "127.0.0.1:2525",
		"VIGIE_SMTP_PASSWORD":  "smtp-secret",
		"VIGIE_SMS_URL":        "https://user:url-secret@sms.test/send",
		"VIGIE_GATEWAY_TOKEN":  "gateway-secret",
		"VIGIE_WEBHOOK_URL":    "https://hook.test/",
		"VIGIE_WEBHOOK_SECRET": "hook-secret",
		"VIGIE_FRALERT_URL":    "https://fr-alert.test/intake",
	}
	c := channel.FromEnv(func(k string) string { return env[k] })
	var got []string
	for ch := range c.Senders() {
		got = append(got, ch)
	}
	slices.Sort(got)
	if want := []string{"EMAIL", "FR_ALERT", "SMS", "WEBHOOK"}; !slices.Equal(got, want) {
		t.Fatalf("senders %v, want %v (VOICE and PUSH unconfigured)", got, want)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "channels", c)
	for _, shown := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logged.String()} {
		for _, secret := range []string{"smtp-secret", "url-secret", "gateway-secret", "hook-secret"} {
			if strings.Contains(shown, secret) {
				t.Errorf("%q shows %s", shown, secret)
			}
		}
	}
	if !strings.Contains(c.String(), "127.0.0.1:2525") || !strings.Contains(c.String(), `GatewayToken:"***"`) {
		t.Errorf("String = %s", c)
	}
	if n := len(channel.FromEnv(func(string) string { return "" }).Senders()); n != 0 {
		t.Errorf("empty environment: %d senders", n)
	}
}
