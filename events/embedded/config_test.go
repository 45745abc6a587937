package embedded_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"vigie/events/embedded"
)

// checkRefusals runs Validate on valid changed by each case, and asserts the error
// says every one of the case's words (the field, and why).
func checkRefusals[C interface{ Validate() error }](t *testing.T, valid C, cases map[string]struct {
	change func(*C)
	want   []string
}) {
	t.Helper()
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	for name, tc := range cases {
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

func TestConfigValidate(t *testing.T) {
	// Zero sizes are the defaults, and negative ScavengeEvery is "never": all valid.
	if err := (embedded.Config{Dir: "d", ScavengeEvery: -1}).Validate(); err != nil {
		t.Fatalf("zero sizes refused: %v", err)
	}
	checkRefusals(t, embedded.Config{Dir: "d", MaxAppendSize: 1 << 10, CacheSize: 1 << 20}, map[string]struct {
		change func(*embedded.Config)
		want   []string
	}{
		"no directory":         {func(c *embedded.Config) { c.Dir = "" }, []string{"Config.Dir", "required"}},
		"negative append size": {func(c *embedded.Config) { c.MaxAppendSize = -1 }, []string{"Config.MaxAppendSize", "negative"}},
		"negative cache":       {func(c *embedded.Config) { c.CacheSize = -1 }, []string{"Config.CacheSize", "negative"}},
		"two problems":         {func(c *embedded.Config) { c.Dir, c.CacheSize = "", -1 }, []string{"Config.Dir", "Config.CacheSize"}},
	})
}

// Open refuses what Validate refuses, instead of replacing it with a default.
func TestOpenRefusesInvalidConfig(t *testing.T) {
	if st, err := embedded.Open(embedded.Config{Dir: t.TempDir(), MaxAppendSize: -1}); err == nil {
		st.Close()
		t.Fatal("a negative MaxAppendSize was opened")
	}
}

func TestListenConfigValidate(t *testing.T) {
	cert := &tls.Certificate{}
	users := &embedded.Users{}
	accounts := []embedded.Account{{Name: "svc", Password: "pw"}}
	for name, c := range map[string]embedded.ListenConfig{
		"loopback, insecure":   {Addr: "127.0.0.1:0"},
		"localhost, insecure":  {Addr: "localhost:2113"},
		"socket, insecure":     {Socket: "/run/vigie/es.sock"},
		"anywhere, TLS files":  {Addr: "0.0.0.0:2113", CertFile: "c.pem", KeyFile: "k.pem", Users: users},
		"socket, TLS accounts": {Socket: "/run/vigie/es.sock", Certificate: cert, Password: "pw", Accounts: accounts},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}
	checkRefusals(t, embedded.ListenConfig{Addr: "127.0.0.1:0", Certificate: cert, Password: "pw", Accounts: accounts}, map[string]struct {
		change func(*embedded.ListenConfig)
		want   []string
	}{
		"both addr and socket": {func(c *embedded.ListenConfig) { c.Socket = "/run/es.sock" }, []string{"Addr or Socket, not both"}},
		"neither":              {func(c *embedded.ListenConfig) { c.Addr = "" }, []string{"Addr or Socket", "neither"}},
		"addr not host:port":   {func(c *embedded.ListenConfig) { c.Addr = "localhost" }, []string{"ListenConfig.Addr", "not host:port"}},
		"socket too long": {func(c *embedded.ListenConfig) { c.Addr, c.Socket = "", "/"+strings.Repeat("s", embedded.MaxSocketPath) },
			[]string{"ListenConfig.Socket", "longer than"}},
		"cert without key": {func(c *embedded.ListenConfig) { c.Certificate, c.CertFile = nil, "c.pem" },
			[]string{"ListenConfig.KeyFile", "TLS needs both a certificate and a key file"}},
		"key without cert": {func(c *embedded.ListenConfig) { c.Certificate, c.KeyFile = nil, "k.pem" },
			[]string{"ListenConfig.CertFile", "TLS needs both a certificate and a key file"}},
		"two certificates": {func(c *embedded.ListenConfig) { c.CertFile, c.KeyFile = "c.pem", "k.pem" },
			[]string{"ListenConfig.Certificate", "give one TLS certificate"}},
		"insecure off loopback": {func(c *embedded.ListenConfig) { c.Addr, c.Certificate = "0.0.0.0:2113", nil },
			[]string{"refusing to serve without TLS", "ListenConfig.Addr", "loopback"}},
		"users without TLS": {func(c *embedded.ListenConfig) { c.Certificate, c.Password, c.Accounts, c.Users = nil, "", nil, users },
			[]string{"ListenConfig.Users", "need TLS"}},
		"accounts without password": {func(c *embedded.ListenConfig) { c.Password = "" }, []string{"ListenConfig.Accounts", "Password"}},
		"accounts with users":       {func(c *embedded.ListenConfig) { c.Users = users }, []string{"ListenConfig.Accounts", "with Users"}},
		"two problems": {func(c *embedded.ListenConfig) { c.Socket, c.Password = "/run/es.sock", "" },
			[]string{"not both", "ListenConfig.Accounts"}},
	})
}

// Listen refuses what Validate refuses, before it binds anything.
func TestListenRefusesInvalidConfig(t *testing.T) {
	st := openStore(t)
	if srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Accounts: []embedded.Account{{Name: "svc", Password: "pw"}}}); err == nil {
		srv.Close()
		t.Fatal("accounts without the admin's password were served")
	} else if !strings.Contains(err.Error(), "ListenConfig.Accounts") {
		t.Fatalf("Listen: %v", err)
	}
}
