package embedded_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"vigie/events/embedded"
	"vigie/events/storetest"
)

// A local process that finds the all-in-one store's loopback port, but not the
// password kept in the serving process's memory, reads nothing and appends
// nothing (issue 14: it read every resident's sealed data and made itself
// prefecture by appending a RoleGranted).
func TestAStoreWithAPasswordRefusesCallersWithoutIt(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pw, err := embedded.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	cert, pool, err := embedded.EphemeralTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Password: pw, Certificate: &cert})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if strings.Contains(srv.URL(), pw) {
		t.Fatal("URL (the one that is logged) carries the password")
	}
	dial := func(url string) *esdb.Client {
		return storetest.Official(t, url, func(c *esdb.Configuration) { c.RootCAs = pool })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	grant := esdb.EventData{EventID: uuid.New(), EventType: "RoleGranted", ContentType: esdb.ContentTypeJson, Data: []byte(`{"role":"prefecture"}`)}

	for name, tc := range map[string]struct {
		url  string
		want esdb.ErrorCode // a real node's answer (issue 15)
	}{
		"anonymous":      {srv.URL(), esdb.ErrorCodeAccessDenied},
		"wrong password": {strings.Replace(srv.ClientURL(), pw, "guess", 1), esdb.ErrorCodeUnauthenticated},
	} {
		c := dial(tc.url)
		if _, err := c.AppendToStream(ctx, "role-dep:30", esdb.AppendToStreamOptions{}, grant); err == nil {
			t.Errorf("%s: append accepted", name)
		} else if codeOf(err) != tc.want {
			t.Errorf("%s: append refused with %v, want code %v", name, err, tc.want)
		}
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 10)
		if err == nil {
			_, err = rs.Recv()
			rs.Close()
		}
		if err == nil {
			t.Errorf("%s: the log was read", name)
		} else if codeOf(err) != tc.want {
			t.Errorf("%s: read refused with %v, want code %v", name, err, tc.want)
		}
	}

	c := dial(srv.ClientURL())
	if _, err := c.AppendToStream(ctx, "role-dep:30", esdb.AppendToStreamOptions{}, grant); err != nil {
		t.Fatalf("with the password: %v", err)
	}
	rs, err := c.ReadStream(ctx, "role-dep:30", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if _, err := rs.Recv(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("with the password, read: %v", err)
	}
}
