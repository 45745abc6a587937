package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vigie/events"
	"vigie/events/alert"
	"vigie/events/embedded"
	"vigie/events/incident"
	"vigie/events/reinforcement"
	"vigie/events/resource"
	"vigie/events/store"
	"vigie/events/territory"
	"vigie/identity"
	"vigie/policies"
	"vigie/projections"
	"vigie/services/incidents"
)

// exerciseSuffix marks the subjects a drill acts as: the exercise twin of each
// recorded actor, never the actor themself.
const exerciseSuffix = "-exercice"

const drillHelp = `Replays the recorded crisis of DOMAIN (a commune) into EXERCISE_DOMAIN at N times its
pace, command by command, through the gateway: incidents and their main courante,
resources (engagements, status, shelter occupancy), reinforcement requests, and alerts
(drafted as exercises: CAP status Exercise, texts prefixed "EXERCICE"; the dispatcher never
sends an exercise to FR-Alert). Residents, role grants and the dispatcher's own events are
not replayed: no personal data is copied, and only residents registered in the exercise
domain could receive anything.

Each command is signed with a development token (the key in --data) for the recorded
actor's subject suffixed "-exercice", with the recorded role, granted on EXERCISE_DOMAIN
(the prefecture's on its département). Command ids derive from the recorded event ids, so
a drill restarted resends the same commands and changes nothing twice.

EXERCISE_DOMAIN must be a commune other than DOMAIN. Use a commune kept for drills, where
nobody is registered: by convention com:<département>999 (dep:30/com:30999), which is no
INSEE code (the Gard's end at 30356); any other commune is accepted, with a warning.

The log is read at EVENTSTORE_URL, or in the embedded store of --data when no server holds it.
`

// drillCmd is `vigie drill`.
func drillCmd(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: vigie %s --from DOMAIN --to EXERCISE_DOMAIN --speed N [flags]\n\n%s\nFlags:\n", name, drillHelp)
		fs.PrintDefaults()
	}
	from := fs.String("from", "", "the recorded crisis' commune, e.g. dep:30/com:30189; required")
	to := fs.String("to", "", "the exercise commune, e.g. dep:30/com:30999; required")
	speed := fs.Float64("speed", 1, "pace: the recorded gaps between commands are divided by N")
	gwDefault := os.Getenv("VIGIE_GATEWAY_URL")
	if gwDefault == "" {
		gwDefault = "http://127.0.0.1:8080"
	}
	gateway := fs.String("gateway", gwDefault, "the gateway's base URL (env VIGIE_GATEWAY_URL)")
	data := fs.String("data", dataDefault(), "data directory: the signing key, and the embedded store when EVENTSTORE_URL is unset (env VIGIE_DATA)")
	sinceFlag := fs.String("since", "", "replay only what happened from TIME (RFC 3339)")
	untilFlag := fs.String("until", "", "replay only what happened before TIME (RFC 3339)")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "vigie %s: "+format+"\n", append([]any{name}, a...)...)
		return exitUsage
	}
	src, err := territory.Parse(*from)
	if err != nil || src.IsDepartement() {
		return usageErr("--from must be a commune's domain, like dep:30/com:30189: %q", *from)
	}
	dst, err := territory.Parse(*to)
	if err != nil || dst.IsDepartement() {
		return usageErr("--to must be a commune's domain (an exercise commune, like dep:30/com:30999): %q", *to)
	}
	if src.String() == dst.String() {
		return usageErr("--to must differ from --from: a drill never writes into the real crisis")
	}
	if !(*speed > 0) || *speed > 1e6 {
		return usageErr("--speed must be a positive number")
	}
	var since, until time.Time
	if *sinceFlag != "" {
		if since, err = time.Parse(time.RFC3339Nano, *sinceFlag); err != nil {
			return usageErr("--since must be an RFC 3339 time: %q", *sinceFlag)
		}
	}
	if *untilFlag != "" {
		if until, err = time.Parse(time.RFC3339Nano, *untilFlag); err != nil {
			return usageErr("--until must be an RFC 3339 time: %q", *untilFlag)
		}
	}
	if !strings.HasSuffix(dst.Commune, "999") {
		fmt.Fprintf(stderr, "vigie %s: warning: %s is not the conventional exercise commune dep:%s/com:%s999; make sure nobody is registered there\n",
			name, dst, dst.Departement, dst.Departement)
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }

	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		return fail(err)
	}
	recorded, err := readCrisis(ctx, *data, src.String(), since, until)
	if err != nil {
		return fail(err)
	}
	if len(recorded) == 0 {
		return fail(fmt.Errorf("no recorded command of %s in the log", src))
	}
	d := &drill{
		from: src.String(), to: dst.String(), dep: "dep:" + dst.Departement, speed: *speed, key: key,
		url: strings.TrimRight(*gateway, "/") + "/graphql", http: &http.Client{Timeout: 30 * time.Second},
		tokens: map[string]string{}, ids: map[string]string{}, entries: map[string]string{},
		stdout: stdout, stderr: stderr,
	}
	return d.run(ctx, recorded)
}

// recordedEvent is one event of the crisis, decoded.
type recordedEvent struct {
	stream string
	id     string // the recorded event id
	event  events.Event
	meta   events.Metadata
	at     time.Time
}

// crisisCategories are the streams a drill replays.
var crisisCategories = map[string]bool{"incident": true, "resource": true, "alert": true, "reinforcement": true}

// readCrisis reads the log in order and keeps the events of the incident, resource,
// alert and reinforcement streams that belong to domain: a stream belongs to it when
// its opening event says so (in its data or its metadata).
func readCrisis(ctx context.Context, dataDir, domain string, since, until time.Time) ([]recordedEvent, error) {
	st, closeAll, err := openDrillStore(dataDir)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	reg, err := projections.Registry(incident.Register, resource.Register, alert.Register, reinforcement.Register)
	if err != nil {
		return nil, err
	}
	member := map[string]bool{}
	var out []recordedEvent
	err = st.ReadAllFunc(ctx, store.Start, store.Forwards, store.NoLimit, func(r store.Recorded) error {
		cat, _, ok := strings.Cut(r.StreamID, "-")
		if r.System() || !ok || !crisisCategories[cat] {
			return nil
		}
		e, md, err := reg.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			if errors.Is(err, events.ErrUnknownEventType) {
				return nil // the dispatcher's journal and such: not a command of the crisis
			}
			return fmt.Errorf("%s@%d: %w", r.StreamID, r.Revision, err)
		}
		if opening, ok := openingDomain(e); ok {
			member[r.StreamID] = opening == domain || md.Domain == domain
		}
		if !member[r.StreamID] || !replayable(e) || md.Role == "system" {
			return nil
		}
		at := md.OccurredAt
		if at.IsZero() {
			at = r.Created
		}
		if !since.IsZero() && at.Before(since) || !until.IsZero() && !at.Before(until) {
			return nil
		}
		id := md.EventID
		if id == "" {
			id = r.ID.String()
		}
		out = append(out, recordedEvent{stream: r.StreamID, id: id, event: e, meta: md, at: at})
		return nil
	})
	return out, err
}

// replayable says whether a person's command produced e: FrAlertRequested follows an
// approval, the dispatch's events and the expiry are the system's, and are not sent.
func replayable(e events.Event) bool {
	switch e.(type) {
	case incident.IncidentReported, incident.IncidentQualified, incident.LogEntryAdded, incident.IncidentEscalated,
		incident.IncidentStabilized, incident.IncidentClosed, incident.IncidentReopened,
		resource.ResourceRegistered, resource.ResourceEngaged, resource.ResourceReleased,
		resource.ResourceStatusChanged, resource.ShelterOccupancyChanged,
		reinforcement.ReinforcementRequested, reinforcement.ReinforcementAccepted, reinforcement.ReinforcementRefused,
		reinforcement.ReinforcementDispatched, reinforcement.ReinforcementArrived, reinforcement.ReinforcementReleased,
		alert.AlertDrafted, alert.AlertRevised, alert.AlertSubmitted, alert.AlertApproved, alert.AlertRejected,
		alert.FrAlertValidated, alert.FrAlertRefused, alert.AlertCancelled:
		return true
	}
	return false
}

func openingDomain(e events.Event) (string, bool) {
	switch e := e.(type) {
	case incident.IncidentReported:
		return e.Domain, true
	case resource.ResourceRegistered:
		return e.Domain, true
	case alert.AlertDrafted:
		return e.Domain, true
	case reinforcement.ReinforcementRequested:
		return e.Domain, true
	}
	return "", false
}

// openDrillStore opens EVENTSTORE_URL, or the embedded store of dataDir when it is unset.
func openDrillStore(dataDir string) (*store.Client, func(), error) {
	url := os.Getenv("EVENTSTORE_URL")
	var opts []store.Option
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if url == "" {
		es, err := embedded.Open(embedded.Config{Dir: filepath.Join(dataDir, "eventstore")})
		if err != nil {
			return nil, nil, fmt.Errorf("the embedded store of %s (is a server holding it? then set EVENTSTORE_URL): %w", dataDir, err)
		}
		closers = append(closers, func() { es.Close() })
		srv, o, err := listenPrivately(es, dataDir) // an offline tool: the admin's access
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, func() { srv.Close() })
		url, opts = srv.ClientURL(), o
	}
	st, err := store.Open(url, opts...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, func() { st.Close() })
	return st, closeAll, nil
}

// drill re-issues recorded commands into the exercise domain.
type drill struct {
	from, to, dep string
	speed         float64
	key           ed25519.PrivateKey
	url           string
	http          *http.Client
	tokens        map[string]string // "subject\x00role" → token
	ids           map[string]string // recorded aggregate id → the exercise's
	entries       map[string]string // recorded log entry id → the exercise's
	stdout        io.Writer
	stderr        io.Writer
}

// issue is one command to send: its operation, variables, the field of the answer,
// and what to remember of it.
type issue struct {
	op       string // mutation name
	query    string
	vars     map[string]any
	recordID string // the recorded aggregate id the answer's id maps, for creations
	after    func(ctx context.Context, tw twin, cmdID string)
}

// twin is the exercise actor of a recorded one.
type twin struct{ subject, role, token string }

func (d *drill) run(ctx context.Context, recorded []recordedEvent) int {
	t0 := recorded[0].at
	last := t0
	for _, r := range recorded {
		if r.at.After(last) {
			last = r.at
		}
	}
	span := last.Sub(t0)
	start := time.Now()
	// A recorded instant T is replayed at start + (T - t0)/speed; the alerts' own
	// effective and expiry times move with it.
	shift := func(t time.Time) time.Time {
		return start.Add(time.Duration(float64(t.Sub(t0)) / d.speed))
	}
	fmt.Fprintf(d.stdout, "drill %s → %s at speed %g: %d recorded events over %s, to take %s\n",
		d.from, d.to, d.speed, len(recorded), span.Round(time.Millisecond), time.Duration(float64(span)/d.speed).Round(time.Millisecond))
	sent, skipped, failed := 0, 0, 0
	for _, r := range recorded {
		is, why := d.translate(r, shift)
		if is == nil {
			if why != "" {
				skipped++
				fmt.Fprintf(d.stderr, "drill: skipped %s %s (%s)\n", r.meta.EventID, eventType(r.event), why)
			}
			continue
		}
		if wait := time.Until(shift(r.at)); wait > 0 {
			select {
			case <-ctx.Done():
				fmt.Fprintf(d.stderr, "drill: interrupted after %d commands\n", sent)
				return exitError
			case <-time.After(wait):
			}
		}
		tw, err := d.twin(r.meta)
		if err != nil {
			fmt.Fprintf(d.stderr, "drill: %v\n", err)
			return exitError
		}
		cmdID := d.commandID(r)
		is.vars["c"] = cmdID
		var answer struct{ ID string }
		err = d.send(ctx, tw.token, is, &answer)
		offset := time.Since(start)
		if err != nil {
			failed++
			fmt.Fprintf(d.stderr, "drill: +%.3fs %s %s as %s: %v\n", offset.Seconds(), eventType(r.event), is.op, tw.subject, err)
			continue
		}
		sent++
		if is.recordID != "" {
			d.ids[is.recordID] = answer.ID
		}
		if is.after != nil {
			is.after(ctx, tw, cmdID)
		}
		fmt.Fprintf(d.stdout, "+%8.3fs  %-24s %-22s %s\n", offset.Seconds(), eventType(r.event), is.op, answer.ID)
	}
	took := time.Since(start)
	fmt.Fprintf(d.stdout, "drill done: %d commands in %s (recorded %s ÷ %g = %s), %d skipped, %d failed\n",
		sent, took.Round(time.Millisecond), span.Round(time.Millisecond), d.speed,
		time.Duration(float64(span)/d.speed).Round(time.Millisecond), skipped, failed)
	if failed > 0 {
		return exitError
	}
	return exitOK
}

func eventType(e events.Event) string { return e.EventType() }

// commandID derives the command's idempotency key from the recorded event and the
// exercise domain: the same drill resent is the same commands, another exercise
// domain gets its own.
func (d *drill) commandID(r recordedEvent) string {
	return "drill:" + d.to + ":" + r.id
}

// twin returns the exercise twin of the recorded actor, with its token.
func (d *drill) twin(md events.Metadata) (twin, error) {
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
		tok, err = identity.Issue(d.key, identity.Claims{Subject: sub, Grants: []policies.Grant{{Role: md.Role, Domain: domain}}}, 12*time.Hour)
		if err != nil {
			return twin{}, err
		}
		d.tokens[k] = tok
	}
	return twin{subject: sub, role: md.Role, token: tok}, nil
}

func streamID(stream string) string {
	_, id, _ := strings.Cut(stream, "-")
	return id
}

func enumValue(s string) string { return strings.ToUpper(s) }

func points(ps []alert.Point) []map[string]float64 {
	if len(ps) == 0 {
		return nil
	}
	out := make([]map[string]float64, len(ps))
	for i, p := range ps {
		out[i] = map[string]float64{"lat": p.Lat, "lon": p.Lon}
	}
	return out
}

// translate turns a recorded event into the command that re-issues it, or nil with the
// reason it is skipped.
func (d *drill) translate(r recordedEvent, shift func(time.Time) time.Time) (*issue, string) {
	rid := streamID(r.stream)
	id, known := d.ids[rid]
	on := func(op, args, params string, vars map[string]any) *issue {
		if vars == nil {
			vars = map[string]any{}
		}
		vars["id"] = id
		q := "mutation($id: ID!, $c: ID" + params + ") { " + op + "(" + args + ", commandId: $c) { id } }"
		return &issue{op: op, query: q, vars: vars}
	}
	const (
		byID       = "id: $id"
		resourceID = "resourceId: $id"
	)
	plain := func(op string) *issue { return on(op, byID, "", nil) }
	because := func(op, reason string) *issue {
		return on(op, byID+", reason: $r", ", $r: String!", map[string]any{"r": reason})
	}
	if _, creates := openingDomain(r.event); !creates && !known {
		return nil, "its " + r.stream + " was not replayed"
	}
	switch e := r.event.(type) {
	// Incidents.
	case incident.IncidentReported:
		in := map[string]any{"domain": d.to, "kind": enumValue(string(e.Kind)), "title": e.Title}
		if e.Description != "" {
			in["description"] = e.Description
		}
		if e.Severity != "" {
			in["severity"] = enumValue(string(e.Severity))
		}
		if e.Location != nil {
			in["location"] = map[string]float64{"lat": e.Location.Lat, "lon": e.Location.Lon}
		}
		return &issue{op: "reportIncident", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }`}, ""
	case incident.IncidentQualified:
		return on("qualifyIncident", byID+", kind: $k, severity: $s", ", $k: IncidentKind!, $s: Severity!",
			map[string]any{"k": enumValue(string(e.Kind)), "s": enumValue(string(e.Severity))}), ""
	case incident.LogEntryAdded:
		var is *issue
		if e.Corrects != "" {
			entry, ok := d.entries[e.Corrects]
			if !ok {
				return nil, "the entry it corrects was not replayed"
			}
			is = &issue{op: "correctLogEntry", vars: map[string]any{"id": id, "e": entry, "t": e.Text},
				query: `mutation($id: ID!, $e: ID!, $t: String!, $c: ID) { correctLogEntry(incidentId: $id, entryId: $e, text: $t, commandId: $c) { id } }`}
		} else {
			is = &issue{op: "addLogEntry", vars: map[string]any{"id": id, "t": e.Text},
				query: `mutation($id: ID!, $t: String!, $c: ID) { addLogEntry(incidentId: $id, text: $t, commandId: $c) { id } }`}
		}
		// The service derives the entry's id (incidents.LogEntryID): remember it, so
		// that a later correction names the exercise's entry.
		is.after = func(_ context.Context, tw twin, cmdID string) {
			d.entries[e.EntryID] = incidents.LogEntryID(id, tw.subject, cmdID)
		}
		return is, ""
	case incident.IncidentEscalated:
		return because("escalateIncident", e.Reason), ""
	case incident.IncidentStabilized:
		return plain("stabilizeIncident"), ""
	case incident.IncidentClosed:
		return on("closeIncident", byID+", summary: $s", ", $s: String!", map[string]any{"s": e.Summary}), ""
	case incident.IncidentReopened:
		return because("reopenIncident", e.Reason), ""

	// Resources.
	case resource.ResourceRegistered:
		in := map[string]any{"domain": d.to, "kind": enumValue(string(e.Kind)), "name": e.Name}
		if e.Capacity > 0 {
			in["capacity"] = e.Capacity
		}
		return &issue{op: "registerResource", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: RegisterResourceInput!, $c: ID) { registerResource(input: $in, commandId: $c) { id } }`}, ""
	case resource.ResourceEngaged:
		inc, ok := d.ids[e.IncidentID]
		if !ok {
			return nil, "the incident it was engaged on was not replayed"
		}
		return on("engageResource", resourceID+", incidentId: $i", ", $i: ID!", map[string]any{"i": inc}), ""
	case resource.ResourceReleased:
		return on("releaseResource", resourceID, "", nil), ""
	case resource.ResourceStatusChanged:
		return on("setResourceStatus", resourceID+", status: $s", ", $s: ResourceStatus!", map[string]any{"s": enumValue(string(e.Status))}), ""
	case resource.ShelterOccupancyChanged:
		return on("setShelterOccupancy", resourceID+", occupancy: $n", ", $n: Int!", map[string]any{"n": e.Occupancy}), ""

	// Reinforcements.
	case reinforcement.ReinforcementRequested:
		inc, ok := d.ids[e.IncidentID]
		if !ok {
			return nil, "its incident was not replayed"
		}
		in := map[string]any{"domain": d.to, "incidentId": inc, "kind": enumValue(string(e.Kind)), "quantity": e.Quantity}
		if e.Reason != "" {
			in["reason"] = e.Reason
		}
		return &issue{op: "requestReinforcement", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: RequestReinforcementInput!, $c: ID) { requestReinforcement(input: $in, commandId: $c) { id } }`}, ""
	case reinforcement.ReinforcementAccepted:
		vars := map[string]any{"q": e.Quantity}
		if e.Note != "" {
			vars["n"] = e.Note
		}
		return on("acceptReinforcement", byID+", quantity: $q, note: $n", ", $q: Int!, $n: String", vars), ""
	case reinforcement.ReinforcementRefused:
		return because("refuseReinforcement", e.Reason), ""
	case reinforcement.ReinforcementDispatched:
		return plain("dispatchReinforcement"), ""
	case reinforcement.ReinforcementArrived:
		return plain("confirmReinforcementArrival"), ""
	case reinforcement.ReinforcementReleased:
		return plain("releaseReinforcement"), ""

	// Alerts: drafted as exercises; the domain marks their texts.
	case alert.AlertDrafted:
		in := d.alertInput(e.Content, e.Channels, shift)
		if e.IncidentID != "" {
			inc, ok := d.ids[e.IncidentID]
			if !ok {
				return nil, "its incident was not replayed"
			}
			in["incidentId"] = inc
		}
		return &issue{op: "draftAlert", recordID: rid, vars: map[string]any{"in": in},
			query: `mutation($in: DraftAlertInput!, $c: ID) { draftAlert(input: $in, commandId: $c) { id } }`}, ""
	case alert.AlertRevised:
		return on("updateAlert", byID+", input: $in", ", $in: DraftAlertInput!", map[string]any{"in": d.alertInput(e.Content, e.Channels, shift)}), ""
	case alert.AlertSubmitted:
		return plain("submitAlert"), ""
	case alert.AlertApproved:
		return plain("approveAlert"), ""
	case alert.AlertRejected:
		return because("rejectAlert", e.Reason), ""
	case alert.FrAlertValidated, alert.FrAlertRefused:
		return nil, "FR-Alert n'est jamais utilisé en exercice"
	case alert.AlertCancelled:
		return because("cancelAlert", e.Reason), ""
	}
	return nil, ""
}

// alertInput is a DraftAlertInput for the exercise domain, marked exercise, with its
// times moved to the drill's clock.
func (d *drill) alertInput(c alert.Content, channels []alert.Channel, shift func(time.Time) time.Time) map[string]any {
	// An exercise never goes out on FR-Alert: cell broadcast reaches every phone in
	// the area, registered for exercises or not (the domain refuses it).
	var chs []string
	for _, ch := range channels {
		if ch != alert.ChannelFrAlert {
			chs = append(chs, string(ch))
		}
	}
	if len(chs) == 0 {
		chs = []string{string(alert.ChannelCAPFeed)}
	}
	in := map[string]any{
		"domain": d.to, "exercise": true, "event": c.Event, "headline": c.Headline,
		"description": c.Description, "instruction": c.Instruction,
		"severity": enumValue(string(c.Severity)), "urgency": enumValue(string(c.Urgency)),
		"certainty": enumValue(string(c.Certainty)), "category": enumValue(string(c.Category)),
		"areaDesc": c.AreaDesc, "channels": chs,
	}
	if p := points(c.Polygon); p != nil {
		in["polygon"] = p
	}
	if c.Language != "" {
		in["language"] = c.Language
	}
	if c.Effective != nil {
		in["effective"] = shift(*c.Effective).UTC().Format(time.RFC3339Nano)
	}
	if c.Expires != nil {
		in["expires"] = shift(*c.Expires).UTC().Format(time.RFC3339Nano)
	}
	return in
}

// send posts the command, retrying what a retry may fix (the gateway unreachable or
// UNAVAILABLE, a CONFLICT): the command id makes a resend harmless.
func (d *drill) send(ctx context.Context, token string, is *issue, out *struct{ ID string }) error {
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
		var ge *gatewayError
		if err == nil || errors.As(err, &ge) && ge.code != "UNAVAILABLE" && ge.code != "CONFLICT" || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (d *drill) post(ctx context.Context, token string, is *issue, out *struct{ ID string }) error {
	var data map[string]json.RawMessage
	if err := (gatewayClient{url: d.url, token: token, http: d.http}).do(ctx, is.query, is.vars, &data); err != nil {
		return fmt.Errorf("%s: %w", is.op, err)
	}
	raw, ok := data[is.op]
	if !ok {
		return fmt.Errorf("%s: no answer", is.op)
	}
	return json.Unmarshal(raw, out)
}
