package store

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// WithUnixSocket connects to the event store through the Unix socket at path instead
// of the connection string's host:port, which must name a single node (esdb://, one
// host: the embedded server's ClientURL gives embedded.SocketHost). The all-in-one
// `vigie serve` serves its store there, so that it opens no TCP port (issue 14).
//
// The official client takes no dialer, but hands its address to grpc.NewClient as
// is: the address becomes the target "unix:///abs/path", which gRPC's own unix
// resolver dials. That resolver names the server "localhost", the name TLS verifies
// the certificate against (embedded.EphemeralTLS's); credentials still go only over
// TLS, as the official client wants.
func WithUnixSocket(path string) Option {
	return func(o *options) { o.socket = path }
}

// useUnixSocket points cfg at the socket of WithUnixSocket.
func useUnixSocket(cfg *esdb.Configuration, path string) error {
	if cfg.DnsDiscover || len(cfg.GossipSeeds) > 0 {
		return errors.New("store: a Unix socket serves a single node: the connection string must be esdb:// with one host")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store: Unix socket %q: %w", path, err)
	}
	// Path, not Opaque: String escapes what the target's parsing would cut (?, #, %).
	cfg.Address = (&url.URL{Scheme: "unix", Path: abs}).String()
	return nil
}
