// Package drill replays a recorded crisis into an exercise commune through the
// gateway, command by command, at a chosen pace: a client of the gateway, not a second
// write path, so that every replayed command is authorized and decided as a person's.
//
// Read keeps, of the log, the crisis' incident, resource, reinforcement and alert
// streams and the events a person's command produced; a Drill re-issues each as its
// GraphQL mutation in the exercise commune, signed with a development token for the
// recorded actor's exercise twin (subject + "-exercice", the recorded role granted on
// the exercise commune, the prefecture's on its département). Alerts are drafted as
// exercises and never go out on FR-Alert. Command ids derive from the recorded event
// ids and the exercise commune: a drill restarted resends the same commands and
// changes nothing twice.
package drill

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"vigie/events"
	"vigie/events/territory"
	"vigie/graph/client"
	"vigie/identity"
	"vigie/policies"
)

// exerciseSuffix marks the subjects a drill acts as: the exercise twin of each
// recorded actor, never the actor themself.
const exerciseSuffix = "-exercice"

// Config of a drill.
type Config struct {
	From string // the recorded crisis' commune, e.g. dep:30/com:30189
	// To is the exercise commune, e.g. dep:30/com:30999; never From: a drill never
	// writes into the real crisis.
	To      string
	Speed   float64            // pace: the recorded gaps between commands are divided by Speed
	Key     ed25519.PrivateKey // signs the exercise twins' development tokens
	Gateway string             // the gateway's base URL; its GraphQL endpoint is /graphql
	HTTP    *http.Client       // nil: one with a 30 s timeout
}

// Drill re-issues recorded commands into the exercise domain.
type Drill struct {
	to, dep string
	speed   float64
	key     ed25519.PrivateKey
	url     string
	http    *http.Client
	tokens  map[string]string // "subject\x00role" → token
	ids     map[string]string // recorded aggregate id → the exercise's
	entries map[string]string // recorded log entry id → the exercise's
}

// New is a drill of c.From into c.To.
func New(c Config) (*Drill, error) {
	dst, err := territory.Parse(c.To)
	if err != nil || dst.IsDepartement() {
		return nil, fmt.Errorf("the exercise domain must be a commune: %q", c.To)
	}
	if dst.String() == c.From {
		return nil, errors.New("the exercise commune must differ from the recorded one: a drill never writes into the real crisis")
	}
	if !(c.Speed > 0) {
		return nil, fmt.Errorf("the speed must be a positive number: %g", c.Speed)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Drill{
		to: dst.String(), dep: "dep:" + dst.Departement, speed: c.Speed, key: c.Key,
		url: strings.TrimRight(c.Gateway, "/") + "/graphql", http: hc,
		tokens: map[string]string{}, ids: map[string]string{}, entries: map[string]string{},
	}, nil
}

// Step is what became of one recorded event, as Run reports it.
type Step struct {
	Offset   time.Duration // since the drill began
	Recorded Recorded
	Op       string // the mutation sent; "" when skipped
	As       string // the exercise twin who sent it
	ID       string // the id the gateway answered
	Skipped  string // why it was not sent, when it was not
	Err      error  // the gateway's refusal, after the retries
}

// Summary is what a drill did.
type Summary struct {
	Sent, Skipped, Failed int
	Span                  time.Duration // the recorded crisis, its first event to its last
	Took                  time.Duration
}

// ErrInterrupted is Run's error when its context ends while it waits for the next
// command's time.
var ErrInterrupted = errors.New("drill interrupted")

// Span is the recorded time between the first event of recorded and the last.
func Span(recorded []Recorded) time.Duration {
	if len(recorded) == 0 {
		return 0
	}
	t0 := recorded[0].At
	last := t0
	for _, r := range recorded {
		if r.At.After(last) {
			last = r.At
		}
	}
	return last.Sub(t0)
}

// Run replays recorded (as Read returns it), each command at its recorded offset
// divided by the speed, and reports every command sent, refused or skipped to step. A
// command the gateway refuses counts as failed and the drill goes on; an actor it
// cannot sign for, or the context ending while it waits (ErrInterrupted), stops it.
func (d *Drill) Run(ctx context.Context, recorded []Recorded, step func(Step)) (Summary, error) {
	sum := Summary{Span: Span(recorded)}
	if len(recorded) == 0 {
		return sum, nil
	}
	t0 := recorded[0].At
	start := time.Now()
	// A recorded instant T is replayed at start + (T - t0)/speed; the alerts' own
	// effective and expiry times move with it.
	shift := func(t time.Time) time.Time {
		return start.Add(time.Duration(float64(t.Sub(t0)) / d.speed))
	}
	for _, r := range recorded {
		is, why := d.translate(r, shift)
		if is == nil {
			if why != "" {
				sum.Skipped++
				step(Step{Offset: time.Since(start), Recorded: r, Skipped: why})
			}
			continue
		}
		if wait := time.Until(shift(r.At)); wait > 0 {
			select {
			case <-ctx.Done():
				sum.Took = time.Since(start)
				return sum, fmt.Errorf("%w after %d commands", ErrInterrupted, sum.Sent)
			case <-time.After(wait):
			}
		}
		tw, err := d.twin(r.Meta)
		if err != nil {
			sum.Took = time.Since(start)
			return sum, err
		}
		cmdID := d.commandID(r)
		is.vars["c"] = cmdID
		var answer struct{ ID string }
		err = d.send(ctx, tw.token, is, &answer)
		offset := time.Since(start)
		if err != nil {
			sum.Failed++
			step(Step{Offset: offset, Recorded: r, Op: is.op, As: tw.subject, Err: err})
			continue
		}
		sum.Sent++
		if is.recordID != "" {
			d.ids[is.recordID] = answer.ID
		}
		if is.after != nil {
			is.after(ctx, tw, cmdID)
		}
		step(Step{Offset: offset, Recorded: r, Op: is.op, As: tw.subject, ID: answer.ID})
	}
	sum.Took = time.Since(start)
	return sum, nil
}

// commandID derives the command's idempotency key from the recorded event and the
// exercise domain: the same drill resent is the same commands, another exercise
// domain gets its own.
func (d *Drill) commandID(r Recorded) string {
	return "drill:" + d.to + ":" + r.ID
}

// twin is the exercise actor of a recorded one.
type twin struct{ subject, role, token string }

// twin returns the exercise twin of the recorded actor, with its token.
func (d *Drill) twin(md events.Metadata) (twin, error) {
	if md.Actor == "" || md.Role == "" {
		return twin{}, fmt.Errorf("event %s has no actor or role", md.EventID)
	}
	sub := md.Actor
	if !strings.HasSuffix(sub, exerciseSuffix) {
		sub += exerciseSuffix
	}
	domain := d.to
	if md.Role == "prefecture" {
		domain = d.dep
	}
	k := sub + "\x00" + md.Role
	tok, ok := d.tokens[k]
	if !ok {
		var err error
		// The twin keeps the recorded person's name, so the exercise's timeline
		// names the same people as the night it replays.
		tok, err = identity.Issue(d.key, identity.Claims{Subject: sub, Name: md.ActorName, Grants: []policies.Grant{{Role: md.Role, Domain: domain}}}, 12*time.Hour)
		if err != nil {
			return twin{}, err
		}
		d.tokens[k] = tok
	}
	return twin{subject: sub, role: md.Role, token: tok}, nil
}

// send posts the command, retrying what a retry may fix (the gateway unreachable or
// UNAVAILABLE, a CONFLICT): the command id makes a resend harmless.
func (d *Drill) send(ctx context.Context, token string, is *issue, out *struct{ ID string }) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		err = d.post(ctx, token, is, out)
		var ge *client.Error
		if err == nil || errors.As(err, &ge) && ge.Code != "UNAVAILABLE" && ge.Code != "CONFLICT" || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (d *Drill) post(ctx context.Context, token string, is *issue, out *struct{ ID string }) error {
	var data map[string]json.RawMessage
	if err := (client.Client{URL: d.url, Token: token, HTTP: d.http}).Do(ctx, is.query, is.vars, &data); err != nil {
		return fmt.Errorf("%s: %w", is.op, err)
	}
	raw, ok := data[is.op]
	if !ok {
		return fmt.Errorf("%s: no answer", is.op)
	}
	return json.Unmarshal(raw, out)
}
