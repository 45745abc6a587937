package embedded_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"vigie/events/embedded"
)

// validateCase changes a valid configuration into one Validate refuses with want,
// in full: the message is what an operator reads on stderr.
type validateCase[C any] struct {
	change func(*C)
	want   string
}

func checkValidate[C interface{ Validate() error }](t *testing.T, valid C, cases map[string]validateCase[C]) {
	t.Helper()
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	for name, tc := range cases {
		c := valid
		tc.change(&c)
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: Validate() = %v\nwant %s", name, err, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	// Zero sizes are the defaults, and a negative ScavengeEvery is "never": all valid.
	if err := (embedded.Config{Dir: "d", ScavengeEvery: -1}).Validate(); err != nil {
		t.Fatalf("zero sizes refused: %v", err)
	}
	checkValidate(t, embedded.Config{Dir: "d", MaxAppendSize: 1 << 10, CacheSize: 1 << 20}, map[string]validateCase[embedded.Config]{
		"no directory":         {func(c *embedded.Config) { c.Dir = "" }, "embedded: Config.Dir is required"},
		"negative append size": {func(c *embedded.Config) { c.MaxAppendSize = -1 }, "embedded: Config.MaxAppendSize: -1 is negative (0 means DefaultMaxAppendSize)"},
		"negative cache":       {func(c *embedded.Config) { c.CacheSize = -1 }, "embedded: Config.CacheSize: -1 is negative (0 means DefaultCacheSize)"},
		"two problems": {func(c *embedded.Config) { c.Dir, c.CacheSize = "", -1 },
			"embedded: Config.Dir is required\nembedded: Config.CacheSize: -1 is negative (0 means DefaultCacheSize)"},
	})
}

// Open refuses what Validate refuses, where it used to replace a negative size by
// the default.
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
	long := "/" + strings.Repeat("s", embedded.MaxSocketPath)
	valid := embedded.ListenConfig{Addr: "127.0.0.1:0", Certificate: cert, Password: "pw", Accounts: accounts}
	checkValidate(t, valid, map[string]validateCase[embedded.ListenConfig]{
		"both addr and socket": {func(c *embedded.ListenConfig) { c.Socket = "/run/es.sock" }, "embedded: give Addr or Socket, not both"},
		"neither":              {func(c *embedded.ListenConfig) { c.Addr = "" }, "embedded: give Addr or Socket: ListenConfig has neither"},
		"addr not host:port":   {func(c *embedded.ListenConfig) { c.Addr = "localhost" }, `embedded: ListenConfig.Addr "localhost" is not host:port`},
		"socket too long": {func(c *embedded.ListenConfig) { c.Addr, c.Socket = "", long },
			`embedded: ListenConfig.Socket: path "` + long + `" is longer than 90 bytes`},
		"cert without key": {func(c *embedded.ListenConfig) { c.Certificate, c.CertFile = nil, "c.pem" },
			"embedded: ListenConfig.KeyFile is empty: TLS needs both a certificate and a key file"},
		"key without cert": {func(c *embedded.ListenConfig) { c.Certificate, c.KeyFile = nil, "k.pem" },
			"embedded: ListenConfig.CertFile is empty: TLS needs both a certificate and a key file"},
		"two certificates": {func(c *embedded.ListenConfig) { c.CertFile, c.KeyFile = "c.pem", "k.pem" },
			"embedded: ListenConfig.Certificate with CertFile/KeyFile: give one TLS certificate, from memory or from files"},
		"insecure off loopback": {func(c *embedded.ListenConfig) { c.Addr, c.Certificate = "0.0.0.0:2113", nil },
			`embedded: refusing to serve without TLS on "0.0.0.0:2113" (ListenConfig.Addr): insecure is allowed only on a loopback address or a Unix socket`},
		"users without TLS": {func(c *embedded.ListenConfig) { c.Certificate, c.Password, c.Accounts, c.Users = nil, "", nil, users },
			"embedded: ListenConfig.Users need TLS: the clients send credentials only over TLS"},
		"accounts without password": {func(c *embedded.ListenConfig) { c.Password = "" }, "embedded: ListenConfig.Accounts need the admin's Password"},
		"accounts with users": {func(c *embedded.ListenConfig) { c.Users = users },
			"embedded: ListenConfig.Accounts with Users: the users file decides who may call, the accounts would be ignored"},
		"two problems": {func(c *embedded.ListenConfig) { c.Socket, c.Password = "/run/es.sock", "" },
			"embedded: give Addr or Socket, not both\nembedded: ListenConfig.Accounts need the admin's Password"},
	})
}

// Listen refuses what Validate refuses, before it binds anything.
func TestListenRefusesInvalidConfig(t *testing.T) {
	st := openStore(t)
	accounts := []embedded.Account{{Name: "svc", Password: "pw"}}
	if srv, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", Accounts: accounts}); err == nil {
		srv.Close()
		t.Fatal("accounts without the admin's password were served")
	} else if !strings.Contains(err.Error(), "ListenConfig.Accounts") {
		t.Fatalf("Listen: %v", err)
	}
}
