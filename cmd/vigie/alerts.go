package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

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
		providers := channel.FromEnv(os.Getenv)
		if err := providers.Validate(); err != nil {
			return nil, err // the service does not come up without the channels it was told of
		}
		log := slog.New(slog.NewTextHandler(stderr, nil))
		svc, d, err := newAlerts(c, a, dataArg(args), providers.Senders(), os.Getenv("VIGIE_DISPATCHER") != "off", log, nil)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return svc, nil
		}
		return withDispatcher{Service: svc, dispatcher: d, log: log}, nil
	})
}

// newAlerts builds the alerts service and, when dispatching, its dispatcher with
// senders: drafts are refused on channels without a provider (CAP_FEED and FR_ALERT
// are always offered: the board publishes the one, the prefecture broadcasts the
// other when there is no intake), and the mayor is shown whom an alert reaches from
// the dispatcher's own directory of residents. Without a dispatcher in the process,
// the service has no directory and says the audience is unavailable. Both wrap and
// unwrap the residents' keys with the KEK of data (keys.go), refused when others
// may read it. now is the clock of both (nil: the wall clock).
func newAlerts(client *store.Client, authz *policies.Authorizer, data string, senders map[string]channel.Sender, dispatching bool, log *slog.Logger, now func() time.Time) (*alerts.Service, *dispatch.Dispatcher, error) {
	kek, err := loadResidentKEK(data, log)
	if err != nil {
		return nil, nil, err
	}
	svc, err := alerts.New(client, authz, now)
	if err != nil {
		return nil, nil, err
	}
	svc.SetKeyWrapper(kek)
	svc.Offered = alerts.OfferedChannels(slices.Collect(maps.Keys(senders)))
	if !dispatching {
		return svc, nil, nil
	}
	reg, err := alerts.Registry()
	if err != nil {
		return nil, nil, err
	}
	d := &dispatch.Dispatcher{Store: client, Registry: reg, Senders: senders, Log: log, Keys: kek, Now: now}
	svc.Audience = d.Directory()
	return svc, d, nil
}

// withDispatcher is the alerts service with its dispatcher, run by serveService.
type withDispatcher struct {
	*alerts.Service
	dispatcher *dispatch.Dispatcher
	log        *slog.Logger
}

func (w withDispatcher) Run(ctx context.Context) { <-runDispatcher(ctx, w.dispatcher, w.log) }

// runDispatcher sends approved alerts until ctx ends; the channel closes when it has.
func runDispatcher(ctx context.Context, d *dispatch.Dispatcher, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("dispatcher stopped", "err", err)
		}
	}()
	return done
}
