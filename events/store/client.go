package store

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Client talks to one event store (a real EventStoreDB/KurrentDB or the embedded
// server) through the official client. It is safe for concurrent use.
//
// A long-lived process must survive event-store restarts, which the official client
// does not make easy:
//   - after its discovery attempts fail it closes itself for good (every later call
//     answers "connection closed"): Client then replaces it by a fresh one. Unless the
//     connection string sets maxDiscoverAttempts, Client lifts that limit, so that
//     discovery goes on until the server is back instead of stranding callers;
//   - a call waiting for a connection is deaf to its context: Client runs each call on
//     a goroutine of its own, so the caller returns when its context ends (with an
//     error matching both ErrUnavailable and context.DeadlineExceeded), and while the
//     store is known to be down it lets one call at a time in (see health).
//
// So give calls a deadline: while the store is unreachable, a call waits for it until
// its context ends.
type Client struct {
	cfg    esdb.Configuration // the parsed connection string, to recreate the client
	tracer trace.Tracer
	opts   options

	health *health

	mu     sync.Mutex
	es     *esdb.Client
	closed bool
	// inflight counts the calls inside the official client: its Close closes a
	// channel those calls may still send on (a data race, and a panic), so Close
	// waits for them first, bounded.
	inflight sync.WaitGroup
}

type options struct {
	tracerProvider trace.TracerProvider
	backoffMin     time.Duration
	backoffMax     time.Duration
	rootCAs        *x509.CertPool
	socket         string // WithUnixSocket
}

// Option configures Open.
type Option func(*options)

// WithRootCAs trusts the certificates of pool for the server's TLS certificate:
// the all-in-one `vigie serve` makes one at every start for its own store, so
// that the official client, which sends credentials only over TLS, may send them.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) { o.rootCAs = pool }
}

// WithTracerProvider sets where spans go (default: the OpenTelemetry global provider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithResubscribeBackoff bounds the wait between two attempts of Subscribe to
// resubscribe (default 50 ms doubling up to 5 s, with jitter).
func WithResubscribeBackoff(min, max time.Duration) Option {
	return func(o *options) {
		if min > 0 {
			o.backoffMin = min
		}
		if max >= o.backoffMin {
			o.backoffMax = max
		}
	}
}

const tracerName = "vigie/events/store"

// Open prepares a client for the esdb:// connection string url. It does not connect:
// the first operation does.
func Open(url string, opts ...Option) (*Client, error) {
	o := options{backoffMin: 50 * time.Millisecond, backoffMax: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.tracerProvider == nil {
		o.tracerProvider = otel.GetTracerProvider()
	}
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		// The connection string may hold a password: a *url.Error repeats it whole.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("store: invalid event store connection string: %w", err)
	}
	// The default logger prints every discovery attempt on stdout.
	cfg.Logger = esdb.NoopLogging()
	if o.rootCAs != nil {
		cfg.RootCAs = o.rootCAs
	}
	if o.socket != "" {
		if err := useUnixSocket(cfg, o.socket); err != nil {
			return nil, err
		}
	}
	if !strings.Contains(strings.ToLower(url), "maxdiscoverattempts=") {
		cfg.MaxDiscoverAttempts = math.MaxInt32
	}
	c := &Client{cfg: *cfg, tracer: o.tracerProvider.Tracer(tracerName), opts: o, health: newHealth()}
	if c.es, err = c.newESDB(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) newESDB() (*esdb.Client, error) {
	cfg := c.cfg
	es, err := esdb.NewClient(&cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return es, nil
}

// Close releases the connection. Calls in flight fail; later calls return ErrClosed.
// (If the store is unreachable at that moment, the official client's discovery loop
// lingers until the server answers: it cannot be stopped from outside.)
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	es := c.es
	c.mu.Unlock()
	// No call starts once closed is set (current checks it under mu), so the wait
	// group only goes down from here.
	waited := make(chan struct{})
	go func() { c.inflight.Wait(); close(waited) }()
	select {
	case <-waited:
		return es.Close()
	case <-time.After(closeWait):
		// A call stuck in the official client's discovery: closing the client under
		// it races its state (and may panic). It is closed once that call returns;
		// Close returns now, and the calls after it fail with ErrClosed.
		go func() { <-waited; _ = es.Close() }()
		return nil
	}
}

// closeWait bounds how long Close waits for the calls in flight: one stuck in the
// official client's discovery loop would wait for ever.
const closeWait = 5 * time.Second

// current returns the official client for one call, and done, to call when the
// call has returned.
func (c *Client) current() (*esdb.Client, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, nil, ErrClosed
	}
	c.inflight.Add(1)
	return c.es, c.inflight.Done, nil
}

// renew replaces dead, an official client that closed itself, unless another caller
// already did. dead is not closed: its connection loop has ended, and closing its
// channel would only make the callers still blocked on it panic.
func (c *Client) renew(dead *esdb.Client) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.es != dead {
		return nil
	}
	es, err := c.newESDB()
	if err != nil {
		return err
	}
	c.es = es
	return nil
}

// call runs fn against the current official client, on a goroutine of its own: it
// returns when fn does or when ctx ends. "Connection closed" means the official client
// gave up before sending anything: fn is then retried once on a fresh client. fn must
// not touch what the caller reads after call returned ctx's error.
func (c *Client) call(ctx context.Context, op string, fn func(*esdb.Client) error) error {
	probe, err := c.health.enter(ctx)
	if err != nil {
		return err
	}
	// The probe's slot is given back when its call ends, or a while after its caller
	// gave up: while the store is down, at most one call waits inside the official
	// client per probeHold.
	release := func() {}
	if probe {
		var once sync.Once
		release = func() { once.Do(c.health.release) }
	}
	abandoned, err := run(ctx, func() error {
		defer release()
		for attempt := 0; ; attempt++ {
			es, done, err := c.current()
			if err != nil {
				return err
			}
			err = fn(es)
			done()
			if attempt == 0 && isCode(err, esdb.ErrorCodeConnectionClosed) {
				if err := c.renew(es); err != nil {
					return err
				}
				continue
			}
			c.health.observe(op, err)
			return err
		}
	})
	if abandoned {
		time.AfterFunc(probeHold, release)
		if errors.Is(err, context.DeadlineExceeded) {
			// Out of time inside the official client: most likely waiting for a
			// connection.
			c.health.setDown()
		}
	}
	return err
}

// probeHold is how long a probe's slot stays taken after its caller gave up while the
// call still waits inside the official client.
const probeHold = 2 * time.Second

// run calls fn on its own goroutine and returns when fn does, or with ctx's error
// (abandoned) when ctx ends first. A panic of fn is returned as an error wrapping
// errPanicked.
func run(ctx context.Context, fn func() error) (abandoned bool, err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%w: %v", errPanicked, r)
			}
		}()
		done <- fn()
	}()
	select {
	case err := <-done:
		return false, err
	case <-ctx.Done():
		select {
		case err := <-done: // finished at the same moment: its outcome is the truth
			return false, err
		default:
			return true, ctx.Err()
		}
	}
}
