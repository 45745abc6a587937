// Package journal is the security journal the RSSI reads: authentication failures,
// refusals, rate-limited callers, sessions ended by expiry or revocation, role grants
// and revocations, report exports, backups, restores, key rotations and scavenges.
//
// Each entry is three things at once:
//   - an OpenTelemetry log record (logger "vigie/security"), for the operator's collector;
//   - a count on the counter vigie.security.events{kind}, for alerting on a burst;
//   - an event in the log (stream security-<département>, or security-global when the
//     entry names no domain), so that an admin sees the last entries of their domain on
//     the dashboard after any restart, and the after-action review has them too.
//
// An entry carries no personal data and no secret: the account (subject) that acted,
// the domain, the action, a stable code and a French reason; never a token, a
// resident's contact detail, a client address or a request body. Record bounds
// every field, and a burst of identical entries (a script retrying a bad token)
// becomes one entry with a count, so an attacker cannot flood the log through it.
package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/metric"

	"vigie/events"
	"vigie/events/input"
	"vigie/events/store"
	"vigie/events/territory"
)

// Kind is what happened.
type Kind string

// The kinds of entries. Their French labels are Label's.
const (
	AuthFailed         Kind = "AUTH_FAILED"
	Refused            Kind = "REFUSED"
	RateLimited        Kind = "RATE_LIMITED"
	SessionEnded       Kind = "SESSION_ENDED"
	RoleGrantRequested Kind = "ROLE_GRANT_REQUESTED"
	RoleGranted        Kind = "ROLE_GRANTED"
	RoleRevoked        Kind = "ROLE_REVOKED"
	ReportExported     Kind = "REPORT_EXPORTED"
	BackupTaken        Kind = "BACKUP"
	Restored           Kind = "RESTORE"
	KeysRotated        Kind = "KEYS_ROTATED"
	Scavenged          Kind = "SCAVENGE"
	Saturated          Kind = "SATURATED"
)

var labels = map[Kind]string{
	AuthFailed:         "Échec d'authentification",
	Refused:            "Action refusée",
	RateLimited:        "Appels limités (trop de requêtes)",
	SessionEnded:       "Session fermée",
	RoleGrantRequested: "Attribution de rôle demandée",
	RoleGranted:        "Rôle attribué",
	RoleRevoked:        "Rôle retiré",
	ReportExported:     "Rapport exporté",
	BackupTaken:        "Sauvegarde",
	Restored:           "Restauration d'une sauvegarde",
	KeysRotated:        "Clés des habitants re-chiffrées",
	Scavenged:          "Événements expirés effacés du journal des événements",
	Saturated:          "Journal saturé : entrées non détaillées",
}

// Label is the kind in French, as the dashboard shows it.
func (k Kind) Label() string {
	if l, ok := labels[k]; ok {
		return l
	}
	return string(k)
}

// Valid says whether k is one of the kinds above.
func (k Kind) Valid() bool { _, ok := labels[k]; return ok }

// warning says which kinds are a failure someone should look at (log severity WARN).
func (k Kind) warning() bool {
	switch k {
	case AuthFailed, Refused, RateLimited, Saturated:
		return true
	}
	return false
}

// Entry is one line of the journal.
type Entry struct {
	At     time.Time `json:"at"`              // first occurrence
	Last   time.Time `json:"last,omitzero"`   // last occurrence, when Count > 1
	Count  int       `json:"count"`           // occurrences folded into this entry
	Kind   Kind      `json:"kind"`            // what happened
	Domain string    `json:"domain,omitzero"` // where; empty: not attributable (a token that does not verify)
	Actor  string    `json:"actor,omitzero"`  // the account that acted (never a token)
	// Subject is the account a role grant or revocation is about.
	Subject string `json:"subject,omitzero"`
	Action  string `json:"action,omitzero"` // "closeIncident", "role:grant mayor", "GET /report"
	Code    string `json:"code,omitzero"`   // FORBIDDEN, NOT_FOUND, RATE_LIMITED, 4401…
	Reason  string `json:"reason,omitzero"` // in French
}

// EventType is the type of the journal's events in the log.
const EventType = "SecurityJournalEntry"

// StreamPrefix starts the journal's streams: security-dep:30, security-global. No
// projection reads them (each filters on its own prefixes).
const StreamPrefix = events.CategorySecurity + "-"

// Global is the stream of the entries that name no domain.
const Global = StreamPrefix + "global"

// Stream is where an entry of domain goes: its département's stream.
func Stream(domain string) string {
	d, err := territory.Parse(domain)
	if err != nil {
		return Global
	}
	return StreamPrefix + "dep:" + d.Departement
}

const (
	maxField = 200  // characters kept of a free field
	maxKeys  = 1000 // distinct entries waiting for the next flush
	// MaxRecent is the most entries Recent answers: "the last 1,000 of their domain".
	MaxRecent = 1000
)

// clean bounds a field and removes what a terminal or a screen would interpret
// (control characters, and the invisible ones input refuses in published fields:
// bidi overrides, zero-width…): the journal shows what callers sent as names.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || input.Invisible(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxField {
		s = string(r[:maxField]) + "…"
	}
	return s
}

type key struct {
	kind                                         Kind
	domain, actor, subject, action, code, reason string
}

// Journal records entries. The zero value is not usable; a nil *Journal records
// nothing (a gateway in a unit test).
type Journal struct {
	store *store.Client // nil: log records and counters only (a CLI away from the store)
	// DomainsOf files an entry that names an actor but no domain under the domains
	// the actor holds roles in (a rate-limited caller); nil or none: the global stream.
	DomainsOf func(subject string) []string

	logger  otellog.Logger
	counter metric.Int64Counter
	now     func() time.Time

	// Inbox is a directory where commands that run apart from the serving process
	// (vigie backup, restore, keys rotate) leave their entries (Drop); Flush takes
	// them in and removes each file once its entry is in the log. Empty: none.
	Inbox string

	mu       sync.Mutex
	pending  map[key]*Entry
	order    []key
	dropped  int
	taken    map[string]bool // inbox files recorded, removed at the next good flush
	retained map[string]bool // streams whose retention this process has set
}

// New returns a journal writing to st (nil: log records and counters only).
func New(st *store.Client) *Journal {
	counter, _ := otel.Meter("vigie/security").Int64Counter("vigie.security.events",
		metric.WithDescription("Security journal entries by kind (authentication failures, refusals, grants…)"))
	return &Journal{
		store:   st,
		logger:  global.GetLoggerProvider().Logger("vigie/security"),
		counter: counter,
		now:     time.Now,
		pending: map[key]*Entry{},
	}
}

// Record notes e; it reaches the log at the next Flush (Run flushes every second). The
// counter counts it at once. Identical entries before a flush become one with a count.
func (j *Journal) Record(ctx context.Context, e Entry) {
	if j == nil || !e.Kind.Valid() {
		return
	}
	if e.At.IsZero() {
		e.At = j.now()
	}
	e.At = e.At.UTC()
	e.Domain, e.Actor, e.Subject = clean(e.Domain), clean(e.Actor), clean(e.Subject)
	e.Action, e.Code, e.Reason = clean(e.Action), clean(e.Code), clean(e.Reason)
	e.Count = max(e.Count, 1)
	if j.counter != nil {
		j.counter.Add(ctx, int64(e.Count), metric.WithAttributes(attribute.String("kind", string(e.Kind))))
	}
	k := key{e.Kind, e.Domain, e.Actor, e.Subject, e.Action, e.Code, e.Reason}
	j.mu.Lock()
	defer j.mu.Unlock()
	if p, ok := j.pending[k]; ok {
		p.Count += e.Count
		p.Last = maxTime(p.Last, e.At, e.Last)
		return
	}
	if len(j.pending) >= maxKeys {
		// Bounded memory under a flood of distinct entries: the rest is counted.
		j.dropped += e.Count
		return
	}
	j.pending[k] = &e
	j.order = append(j.order, k)
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// Run flushes every interval until ctx ends, then once more.
func (j *Journal) Run(ctx context.Context, interval time.Duration) {
	if j == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = j.Flush(flushCtx)
			cancel()
			return
		case <-t.C:
			_ = j.Flush(ctx)
		}
	}
}

// Flush emits the waiting entries as log records and appends them to the log. Entries
// the store did not take stay waiting for the next flush (their log record is emitted
// once).
func (j *Journal) Flush(ctx context.Context) error {
	if j == nil {
		return nil
	}
	files := j.takeInbox(ctx)
	j.mu.Lock()
	batch := make([]Entry, 0, len(j.order)+1)
	for _, k := range j.order {
		batch = append(batch, *j.pending[k])
	}
	if j.dropped > 0 {
		batch = append(batch, Entry{At: j.now().UTC(), Kind: Saturated, Count: j.dropped,
			Reason: fmt.Sprintf("%d entrées au-delà de %d distinctes en une seconde, seulement comptées", j.dropped, maxKeys)})
	}
	j.pending, j.order, j.dropped = map[key]*Entry{}, nil, 0
	j.mu.Unlock()
	for _, e := range batch {
		j.emit(ctx, e)
	}
	if j.store == nil || len(batch) == 0 {
		return nil
	}
	byStream := map[string][]store.EventData{}
	var streams []string
	for _, e := range batch {
		for _, f := range j.filed(e) {
			data, err := json.Marshal(f)
			if err != nil {
				return err
			}
			s := Stream(f.Domain)
			if _, ok := byStream[s]; !ok {
				streams = append(streams, s)
			}
			byStream[s] = append(byStream[s], store.EventData{ID: uuid.New(), Type: EventType, Data: data})
		}
	}
	var errs []error
	for _, s := range streams {
		if err := j.retain(ctx, s); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := j.store.Append(ctx, s, store.Any(), byStream[s]...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// Nothing accepted is lost: what the store did not take waits for the next
		// flush (re-recorded without a second log record or count).
		j.requeue(batch)
		return errors.Join(errs...)
	}
	j.mu.Lock()
	for _, f := range files {
		if err := os.Remove(f); err == nil || errors.Is(err, fs.ErrNotExist) {
			delete(j.taken, f)
		}
	}
	j.mu.Unlock()
	return nil
}

// Drop leaves e in dir for the serving process's journal to take in (Inbox): a
// command that runs apart from it (an online backup while serve holds the log, a
// restore before the next start) cannot append to the log itself. The file is
// written whole (rename) and readable by its owner only.
func Drop(dir string, e Entry) error {
	if !e.Kind.Valid() {
		return fmt.Errorf("journal: unknown kind %q", e.Kind)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".entry-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, fmt.Sprintf("%d-%s.json", e.At.UnixNano(), uuid.NewString())))
}

// takeInbox records the inbox's entries not yet recorded and returns their files.
func (j *Journal) takeInbox(ctx context.Context) []string {
	if j.Inbox == "" {
		return nil
	}
	names, err := filepath.Glob(filepath.Join(j.Inbox, "*.json"))
	if err != nil {
		return nil
	}
	var files []string
	for _, f := range names {
		j.mu.Lock()
		if j.taken == nil {
			j.taken = map[string]bool{}
		}
		seen := j.taken[f]
		j.taken[f] = true
		j.mu.Unlock()
		files = append(files, f)
		if seen {
			continue // recorded already; its flush failed and it waits in memory
		}
		data, err := os.ReadFile(f)
		var e Entry
		if err != nil || len(data) > 64<<10 || json.Unmarshal(data, &e) != nil {
			continue // not an entry: removed with the others, never recorded
		}
		j.Record(ctx, e)
	}
	return files
}

// Retention is how long the log keeps the journal's entries: a year and a day (the
// stream metadata $maxAge of each journal stream, set once per stream and process;
// the store's scavenge then erases older ones).
const Retention = 366 * 24 * time.Hour

// retain sets the retention of stream once per process: a metadata event of its
// $$ stream, as the official clients' SetStreamMetadata writes it.
func (j *Journal) retain(ctx context.Context, stream string) error {
	j.mu.Lock()
	done := j.retained[stream]
	j.mu.Unlock()
	if done {
		return nil
	}
	meta := fmt.Appendf(nil, `{"$maxAge":%d}`, int64(Retention/time.Second))
	if _, err := j.store.Append(ctx, "$$"+stream, store.Any(), store.EventData{ID: uuid.New(), Type: "$metadata", Data: meta}); err != nil {
		return err
	}
	j.mu.Lock()
	if j.retained == nil {
		j.retained = map[string]bool{}
	}
	j.retained[stream] = true
	j.mu.Unlock()
	return nil
}

// requeue puts a batch back after a failed append, without counting it twice.
func (j *Journal) requeue(batch []Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range batch {
		k := key{e.Kind, e.Domain, e.Actor, e.Subject, e.Action, e.Code, e.Reason}
		if p, ok := j.pending[k]; ok {
			p.Count += e.Count
			p.At = e.At
			continue
		}
		if len(j.pending) < maxKeys {
			e := e
			j.pending[k] = &e
			j.order = append(j.order, k)
		}
	}
}

// filed is where an entry goes: its domain's département; an entry with an actor but
// no domain (a rate-limited caller) is filed once per domain the actor holds roles in,
// with that domain, so that each of their admins sees it; else the global stream.
func (j *Journal) filed(e Entry) []Entry {
	if e.Domain != "" || e.Actor == "" || j.DomainsOf == nil {
		return []Entry{e}
	}
	var out []Entry
	for _, d := range j.DomainsOf(e.Actor) {
		if c, err := territory.Canonical(d); err == nil && !slices.ContainsFunc(out, func(f Entry) bool { return f.Domain == c }) {
			f := e
			f.Domain = c
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return []Entry{e}
	}
	return out
}

// emit writes e as an OpenTelemetry log record: the body says it in French, the
// attributes carry the fields for a collector's queries.
func (j *Journal) emit(ctx context.Context, e Entry) {
	var r otellog.Record
	r.SetTimestamp(e.At)
	r.SetObservedTimestamp(j.now())
	r.SetEventName("vigie.security." + strings.ToLower(string(e.Kind)))
	if e.Kind.warning() {
		r.SetSeverity(otellog.SeverityWarn)
		r.SetSeverityText("WARN")
	} else {
		r.SetSeverity(otellog.SeverityInfo)
		r.SetSeverityText("INFO")
	}
	r.SetBody(attribute.StringValue(e.Kind.Label()))
	attrs := []attribute.KeyValue{attribute.String("kind", string(e.Kind)), attribute.Int("count", e.Count)}
	for _, f := range []struct{ k, v string }{
		{"domain", e.Domain}, {"actor", e.Actor}, {"subject", e.Subject},
		{"action", e.Action}, {"code", e.Code}, {"reason", e.Reason},
	} {
		if f.v != "" {
			attrs = append(attrs, attribute.String(f.k, f.v))
		}
	}
	r.AddAttributes(attrs...)
	j.logger.Emit(ctx, r)
}

// Recent answers the newest entries of domain, newest first, at most n (≤ MaxRecent).
// A département sees its communes' entries and the global ones; a commune only its own.
func (j *Journal) Recent(ctx context.Context, domain string, n int) ([]Entry, error) {
	if j == nil || j.store == nil {
		return nil, errors.New("journal: no event store")
	}
	d, err := territory.Parse(domain)
	if err != nil {
		return nil, err
	}
	n = min(max(n, 1), MaxRecent)
	streams := []string{Stream(domain)}
	if d.IsDepartement() {
		streams = append(streams, Global)
	}
	var out []Entry
	for _, s := range streams {
		// A commune's entries are among its département's: read up to a bounded
		// window of the département's newest to find n of them.
		limit := uint64(n)
		if !d.IsDepartement() {
			limit = uint64(n) * 20
		}
		err := j.store.ReadStreamFunc(ctx, s, store.End, store.Backwards, limit, func(r store.Recorded) error {
			if r.Type != EventType {
				return nil
			}
			var e Entry
			if json.Unmarshal(r.Data, &e) != nil {
				return nil
			}
			if !d.IsDepartement() && !territory.Covers(domain, e.Domain) {
				return nil
			}
			out = append(out, e)
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrStreamNotFound) {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return b.At.Compare(a.At) })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}
