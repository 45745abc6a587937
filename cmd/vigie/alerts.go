package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"vigie/events/store"
	"vigie/policies"
	"vigie/services/alerts"
	"vigie/services/alerts/channel"
	"vigie/services/alerts/dispatch"
)

// serveAlerts runs the alerts service and, unless VIGIE_DISPATCHER=off, the
// dispatcher beside it: it sends approved alerts through the providers configured in
// the environment (channel.FromEnv: VIGIE_SMTP_*, VIGIE_SMS_URL, …).
func serveAlerts(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	return serveService(ctx, name, "127.0.0.1:7103", args, stdout, stderr, func(c *store.Client, a *policies.Authorizer) (service, error) {
		svc, err := alerts.New(c, a, nil)
		if err != nil {
			return nil, err
		}
		if os.Getenv("VIGIE_DISPATCHER") == "off" {
			return svc, nil
		}
		return withDispatcher{Service: svc, client: c, log: slog.New(slog.NewTextHandler(stderr, nil))}, nil
	})
}

// withDispatcher is the alerts service with its dispatcher, run by serveService.
type withDispatcher struct {
	*alerts.Service
	client *store.Client
	log    *slog.Logger
}

func (w withDispatcher) Run(ctx context.Context) { <-runDispatcher(ctx, w.client, w.log) }

// runDispatcher sends approved alerts until ctx ends; the channel closes when it has.
func runDispatcher(ctx context.Context, client *store.Client, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	reg, err := alerts.Registry()
	if err != nil {
		log.Error("dispatcher not started", "err", err)
		close(done)
		return done
	}
	cfg := channel.FromEnv(os.Getenv)
	d := &dispatch.Dispatcher{Store: client, Registry: reg, Senders: cfg.Senders(), Log: log}
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("dispatcher stopped", "err", err)
		}
	}()
	return done
}
