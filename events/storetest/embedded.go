package storetest

import (
	"testing"

	"vigie/events/embedded"
	"vigie/events/store"
)

// Embedded runs an embedded event store on a temporary directory for the test, and
// returns a client to it and its URL; both stop at the test's end. Every test harness
// that needs a store (services, projections, the gateway) starts it here.
func Embedded(t testing.TB) (*store.Client, string) {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); srv.Close(); st.Close() })
	return c, srv.URL()
}
