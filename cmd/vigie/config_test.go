package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `vigie serve` hands the providers of its environment to channel.Config.Validate
// before anything starts: every bad variable is named on stderr at once, exit 2, and
// no data directory is made. It used to start and lose the webhook channel silently.
func TestServeRefusesABadProviderEnvironment(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	stdout, stderr, code := runVigie(t, []string{"VIGIE_SMS_URL=sms.example.org/send", "VIGIE_WEBHOOK_URL=https://hook.example.org/", "VIGIE_WEBHOOK_SECRET=",
		"VIGIE_SMTP_ADDR=", "VIGIE_SMTP_FROM=", "VIGIE_SMTP_USER=", "VIGIE_SMTP_PASSWORD=", "VIGIE_VOICE_URL=", "VIGIE_FRALERT_URL=", "VIGIE_METRICS_ADDR=off"},
		"serve", "--data", data, "--http", "127.0.0.1:0")
	if code != exitUsage {
		t.Errorf("exit code %d, want %d; stderr: %s", code, exitUsage, stderr)
	}
	if !strings.HasPrefix(stderr, "vigie serve: channel: ") {
		t.Errorf("stderr = %q, want the refusal first", stderr)
	}
	for _, want := range []string{"VIGIE_SMS_URL", "not an absolute http(s) URL", "VIGIE_WEBHOOK_URL", "without WebhookSecret"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q: %q", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was made before the refusal: %v", err)
	}
}

// `vigie serve alerts` refuses a bad provider environment too, naming the variable,
// rather than coming up without the channel the operator configured.
func TestServeAlertsRefusesABadProviderEnvironment(t *testing.T) {
	data := t.TempDir()
	es := startVigie(t, "serve", "eventstore", "--data", data, "--listen", "127.0.0.1:0")
	_, stderr, code := runVigie(t, []string{"EVENTSTORE_URL=esdb://" + es.addr + "?tls=false", "VIGIE_METRICS_ADDR=off",
		"VIGIE_SMS_URL=", "VIGIE_VOICE_URL=", "VIGIE_FRALERT_URL=", "VIGIE_SMTP_ADDR=", "VIGIE_SMTP_FROM=", "VIGIE_SMTP_USER=", "VIGIE_SMTP_PASSWORD=",
		"VIGIE_WEBHOOK_URL=", "VIGIE_WEBHOOK_SECRET=", "VIGIE_SMTP_ADDR=smtp.example.org"},
		"serve", "alerts", "--data", data, "--listen", "127.0.0.1:0")
	if code == exitOK {
		t.Fatalf("serve alerts started with VIGIE_SMTP_ADDR without a port; stderr: %s", stderr)
	}
	if !strings.Contains(stderr, "VIGIE_SMTP_ADDR") {
		t.Errorf("stderr does not name VIGIE_SMTP_ADDR: %q", stderr)
	}
}
