package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"vigie/events/embedded"
	"vigie/services/alerts/channel"
)

// defaultData is the data directory when neither --data nor VIGIE_DATA says otherwise.
const defaultData = "./data"

// dataDefault reads VIGIE_DATA into the flag's default, so an explicit --data wins.
func dataDefault() string {
	if d := os.Getenv("VIGIE_DATA"); d != "" {
		return d
	}
	return defaultData
}

// allInOneSenders are the alert providers of the all-in-one process, by channel:
// the demo's in-process ones when demo is given, else those the environment
// configures (channel.FromEnv), never a mix. `vigie serve` thus offers SMS, voice
// or e-mail only with a real provider behind it (without one, CAP_FEED and
// FR_ALERT only), and the demo never reaches a real provider, even in a shell
// where VIGIE_SMTP_ADDR or VIGIE_FRALERT_URL are set: its residents are fictitious.
// It does not check the environment: runAll has had channel.Config.Validate refuse
// a bad one before anything started.
func allInOneSenders(getenv func(string) string, demo *demoProviders) map[string]channel.Sender {
	if demo != nil {
		return demo.Senders()
	}
	return channel.FromEnv(getenv).Senders()
}

// serveEventstore runs the embedded event store alone until SIGINT or SIGTERM.
func serveEventstore(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory; the log lives in DIR/eventstore (env VIGIE_DATA)")
	listen := fs.String("listen", "127.0.0.1:2113", "host:port of the EventStoreDB gRPC protocol; port 0 takes a free one")
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM), instead of the one made from the store's private CA")
	key := fs.String("tls-key", "", "TLS private key file (PEM), with --tls-cert")
	secure := fs.Bool("secure", false, "users and TLS even on loopback (on by default off loopback and with --tls-cert)")
	insecure := fs.Bool("insecure", false, "no users and no TLS: loopback development only (the default on loopback)")
	metricsAt := metricsFlag(fs)
	var sans []string
	fs.Func("tls-san", "extra name or IP address of the server certificate made from the private CA (repeatable, or comma-separated)", func(v string) error {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				sans = append(sans, n)
			}
		}
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigie %s: unexpected argument %q\n", name, fs.Arg(0))
		return exitUsage
	}
	if *data == "" {
		fmt.Fprintf(stderr, "vigie %s: --data is empty\n", name)
		return exitUsage
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir := filepath.Join(*data, "eventstore")
	lc, err := eventstoreSecurity(dir, *listen, *cert, *key, sans, *secure, *insecure, log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		if errors.As(err, new(errUsage)) {
			return exitUsage
		}
		return exitError
	}
	// Telemetry once the configuration is known good: a refusal is the first line said.
	stopTelemetry, err := startTelemetry(ctx, "eventstore", metricsAt, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	defer stopTelemetry()
	store, err := embedded.Open(embedded.Config{Dir: dir})
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	// Listen owns the rule that insecure serving is for loopback only (and that TLS needs
	// both files), so its refusal is reported as is rather than checked twice.
	srv, err := store.Listen(lc)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, errors.Join(err, store.Close()))
		return exitError
	}
	log.Info("event store ready", "dir", dir, "head", store.Head(), "url", srv.URL())
	// The one line on stdout: scripts and tests read the real port from it.
	fmt.Fprintf(stdout, "listening on %s\n", srv.Addr())

	<-ctx.Done()
	// Restore default signal handling at once: a second Ctrl-C kills a shutdown that hangs.
	stop()
	log.Info("shutting down", "cause", context.Cause(ctx))
	// The server first, so that no append or subscription is in flight when the log closes.
	srv.Close()
	if err := store.Close(); err != nil {
		log.Error("close event store", "err", err)
		return exitError
	}
	log.Info("stopped")
	return exitOK
}
