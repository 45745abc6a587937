package channeltest

import (
	"context"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// A raw session: every command the sink knows, dot-unstuffing, a refusal.
func TestSMTPSession(t *testing.T) {
	sink := StartSMTP(t)
	c, err := textproto.Dial("tcp", sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect := func(code int) {
		t.Helper()
		if _, _, err := c.ReadResponse(code); err != nil {
			t.Fatalf("want %d: %v", code, err)
		}
	}
	cmd := func(code int, line string) {
		t.Helper()
		if err := c.PrintfLine("%s", line); err != nil {
			t.Fatal(err)
		}
		expect(code)
	}
	expect(220)
	cmd(250, "HELO tester")
	cmd(250, "EHLO tester")
	cmd(503, "RCPT TO:<x@test>")
	cmd(235, "AUTH PLAIN AHUAcA==")
	cmd(250, "NOOP")
	cmd(252, "VRFY someone")
	cmd(250, "MAIL FROM:<a@test>")
	cmd(250, "RCPT TO:<dropped@test>")
	cmd(250, "RSET")
	cmd(503, "DATA")
	cmd(250, "mail from:<a@test> BODY=8BITMIME")
	cmd(250, "rcpt to:<b@test>")
	cmd(250, "RCPT TO:<c@test>")
	cmd(354, "DATA")
	raw := "Message-ID: <m1@test>\r\nSubject: =?utf-8?q?=C3=A9t=C3=A9?=\r\n\r\n" +
		"..hidden dot\r\n...\r\nplain\r\n.\r\n"
	if _, err := c.W.WriteString(raw); err != nil || c.W.Flush() != nil {
		t.Fatal(err)
	}
	expect(250)
	sink.FailNext(1, 451)
	cmd(250, "MAIL FROM:<a@test>")
	cmd(250, "RCPT TO:<b@test>")
	cmd(354, "DATA")
	c.W.WriteString("Message-ID: <m2@test>\r\n\r\nrefused\r\n.\r\n")
	c.W.Flush()
	expect(451)
	cmd(502, "STARTTLS")
	cmd(221, "QUIT")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sink.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 || sink.Raw() != 1 {
		t.Fatalf("messages %+v raw %d", got, sink.Raw())
	}
	m := got[0]
	if m.MessageID != "<m1@test>" || m.Subject != "été" || m.Body != ".hidden dot\n..\nplain\n" || m.From != "a@test" || strings.Join(m.To, ",") != "b@test,c@test" {
		t.Fatalf("got %+v", m)
	}
	if per := sink.PerRecipient(); len(per) != 2 || per["b@test"] != 1 || per["c@test"] != 1 {
		t.Fatalf("per recipient %v", per)
	}
	if st := sink.Stats(); st.Count != 1 || st.Raw != 1 || st.Duplicates != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	sink := StartHTTP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := sink.Wait(ctx, 1); err == nil {
		t.Fatal("Wait returned without messages")
	}
}
