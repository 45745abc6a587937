package channeltest

import "testing"

// StartSMTP starts an SMTPSink on 127.0.0.1:0, closed at the end of the test.
func StartSMTP(t testing.TB) *SMTPSink {
	t.Helper()
	s, err := NewSMTPSink("")
	if err != nil {
		t.Fatalf("start SMTP sink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// StartHTTP starts an HTTPSink on 127.0.0.1:0, closed at the end of the test.
func StartHTTP(t testing.TB, opts ...HTTPOption) *HTTPSink {
	t.Helper()
	s, err := NewHTTPSink("", opts...)
	if err != nil {
		t.Fatalf("start HTTP sink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
