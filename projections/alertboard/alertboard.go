// Package alertboard is the alerts board and the approvals inbox: every alert of a
// commune with its status, its published content and the revision waiting for
// approval, its CAP messages, and each channel's state and counts. It holds no
// resident's data: the dispatch journal gives counts only.
//
// Keys (under the projection's versioned prefix):
//
//	alert:<id>            JSON document of the alert
//	board:<domain>        zset of the alerts of a commune or a département, by draft time
//	status:<domain>:<st>  zset of the alerts in a status, one of alert.Statuses (the
//	                      inbox reads pending_approval and fr_alert_requested), same score
//
// Every alert is indexed under its commune and its département.
package alertboard

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/alert"
	"vigie/projections"
)

// Name of the read model.
const Name = "alerts"

// Delivery is one channel of the latest approved message (or of the
// cancellation): its state, why in French when it is not plainly delivered,
// and its counts. CountsKnown is false where nobody can count (FR-Alert).
type Delivery struct {
	Channel     string `json:"channel"`
	State       string `json:"state"` // PENDING SENDING DELIVERED PARTIAL FAILED REFUSED
	Reason      string `json:"reason,omitempty"`
	CountsKnown bool   `json:"countsKnown"`
	Recipients  int    `json:"recipients"`
	Sent        int    `json:"sent"`
	Delivered   int    `json:"delivered"`
	Failed      int    `json:"failed"`
}

// Version is one version of an alert's content: the published one (approved
// last) or a revision waiting for approval.
type Version struct {
	Version    int           `json:"version"`
	Content    alert.Content `json:"content"`
	Channels   []string      `json:"channels"`
	ApprovedBy string        `json:"approvedBy,omitempty"`
	ApprovedAt *time.Time    `json:"approvedAt,omitempty"`
}

// Failure is a technical failure of a channel, shown, never hidden.
type Failure struct {
	Identifier string    `json:"identifier"`
	Channel    string    `json:"channel"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// Alert is the board's view of one alert.
type Alert struct {
	ID         string          `json:"id"`
	Domain     string          `json:"domain"`
	IncidentID string          `json:"incidentId,omitempty"`
	Status     string          `json:"status"`
	Content    alert.Content   `json:"content"`
	Channels   []string        `json:"channels"`
	Exercise   bool            `json:"exercise"`
	Author     string          `json:"author"`
	ApprovedBy string          `json:"approvedBy,omitempty"`
	Waived     bool            `json:"selfApprovalWaived,omitempty"`
	FrAlert    string          `json:"frAlert,omitempty"` // requested, validated, refused
	Reason     string          `json:"reason,omitempty"`  // of the last rejection, refusal or cancellation
	Messages   []alert.Message `json:"messages"`
	// Version is the number of the latest version of the content (Content
	// above): 1 when drafted, one more for each revision.
	Version int `json:"version"`
	// Published is the last approved version: the only content ever public
	// (CAP, feed) or sent; nil before the first approval. PendingRevision is
	// the latest version while it waits for approval (a first draft too);
	// Content above is always the latest version written.
	Published       *Version `json:"published,omitempty"`
	PendingRevision *Version `json:"pendingRevision,omitempty"`
	// Audience is what the approver was shown: recipients per channel.
	Audience map[string]int `json:"audience,omitempty"`
	// Progress decides the status and each channel's state (alert.Progress).
	Progress      alert.Progress `json:"progress"`
	Deliveries    []Delivery     `json:"deliveries"`
	Cancellations []Delivery     `json:"cancellations"`
	Failures      []Failure      `json:"failures,omitempty"`
	DraftedAt     time.Time      `json:"draftedAt"`
	SubmittedAt   *time.Time     `json:"submittedAt,omitempty"`
	ApprovedAt    *time.Time     `json:"approvedAt,omitempty"`
	// SentAt is when the dispatcher finished the latest approved message.
	SentAt    *time.Time `json:"sentAt,omitempty"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// Projection builds the board.
type Projection struct{ reg *events.Registry }

// New returns the projection.
func New() (*Projection, error) {
	reg, err := projections.Registry(alert.Register)
	if err != nil {
		return nil, err
	}
	return &Projection{reg: reg}, nil
}

func (*Projection) Name() string { return Name }
func (*Projection) StreamPrefixes() []string {
	return []string{events.CategoryAlert + "-", alert.DispatchCategory + "-"}
}
func (p *Projection) Registry() *events.Registry { return p.reg }

func alertOf(e projections.Event) string {
	_, id, _ := strings.Cut(e.StreamID, "-")
	return id
}

// Apply projects a batch: read the documents it touches, evolve them in memory,
// write each once with its indexes.
func (p *Projection) Apply(ctx context.Context, m *projections.Model, batch []projections.Event) error {
	var order []string
	seen := map[string]bool{}
	for _, e := range batch {
		if id := alertOf(e); id != "" && !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	if len(order) == 0 {
		return nil
	}
	keys := make([]string, len(order))
	for i, id := range order {
		keys[i] = m.Key("alert", id)
	}
	vals, err := m.R.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	before := map[string]*Alert{}
	after := map[string]*Alert{}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var old, cur Alert
		if err := json.Unmarshal([]byte(s), &old); err != nil {
			return fmt.Errorf("alertboard: document %s: %w", order[i], err)
		}
		_ = json.Unmarshal([]byte(s), &cur)
		before[order[i]], after[order[i]] = &old, &cur
	}
	for _, e := range batch {
		id := alertOf(e)
		doc := after[id]
		if doc == nil {
			d, ok := e.Event.(alert.AlertDrafted)
			if !ok {
				continue
			}
			doc = &Alert{ID: d.AlertID, Domain: d.Domain, DraftedAt: d.At, Messages: []alert.Message{}, Deliveries: []Delivery{}, Cancellations: []Delivery{}}
			after[id] = doc
		}
		if apply(doc, e.Event) {
			doc.UpdatedAt = e.Meta.OccurredAt
			m.Notify(projections.Notice{Domain: doc.Domain, StreamID: e.StreamID, Type: e.Type, At: e.Meta.OccurredAt, Position: e.Position})
		}
	}
	for _, id := range order {
		doc := after[id]
		if doc == nil {
			continue
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		m.W.Set(ctx, m.Key("alert", id), b, 0)
		for _, scope := range projections.Scopes(doc.Domain) {
			score := float64(doc.DraftedAt.UnixMilli())
			if old := before[id]; old != nil && old.Status != doc.Status {
				m.W.ZRem(ctx, m.Key("status", scope, old.Status), id)
			}
			m.W.ZAdd(ctx, m.Key("status", scope, doc.Status), redis.Z{Score: score, Member: id})
			m.W.ZAdd(ctx, m.Key("board", scope), redis.Z{Score: score, Member: id})
		}
	}
	return nil
}

// apply evolves a document with one event and reports whether it changed. The
// status and every channel's state are alert.Progress's, and the published and
// pending versions alert.Versions', the one place each is decided (the command
// side keeps the same): the board never works them out itself, so the screens
// and the domain cannot disagree, and no revision shows as public before a mayor
// approved it.
func apply(doc *Alert, e events.Event) bool {
	switch ev := e.(type) {
	case alert.AlertDrafted:
		doc.IncidentID, doc.Exercise, doc.Author = ev.IncidentID, ev.Exercise, ev.By
	case alert.AlertRevised:
		doc.Author = ev.By
	case alert.AlertSubmitted:
		doc.SubmittedAt = &ev.At
	case alert.AlertApproved:
		doc.ApprovedBy, doc.Waived, doc.ApprovedAt = ev.By, ev.SelfApprovalWaived, &ev.At
		doc.Messages = append(doc.Messages, ev.Message)
		doc.Reason = ""
		doc.Audience = maps.Clone(ev.Audience)
	case alert.AlertRejected:
		doc.Reason = ev.Reason
	case alert.FrAlertRefused:
		doc.Reason = ev.Reason
	case alert.AlertCancelled:
		doc.Reason = ev.Reason
		if ev.Message != nil {
			doc.Messages = append(doc.Messages, *ev.Message)
		}
	case alert.AlertDispatchFailed:
		doc.Failures = append(doc.Failures, Failure{Identifier: ev.Identifier, Channel: string(ev.Channel), Reason: ev.Reason, At: ev.At})
	case alert.AlertSent:
		// The cancellation's dispatch ends with an AlertSent too: SentAt is the
		// alert's own message's.
		if ev.Identifier == doc.Progress.Latest {
			doc.SentAt = &ev.At
		}
	case alert.FrAlertRequested, alert.FrAlertValidated, alert.FrAlertBroadcastConfirmed,
		alert.AlertExpired, alert.AlertDispatchStarted, alert.DeliveriesRecorded:
	default:
		return false
	}
	doc.Progress.Apply(e)
	versions, _ := doc.versions().After(e)
	derive(doc, versions)
	return true
}

// versions are the document's versions in the contract's terms: the latest one
// (Content, Channels, Version) and the published one.
func (doc *Alert) versions() alert.Versions {
	v := alert.Versions{Latest: alert.Revision{Number: doc.Version, Content: doc.Content, Channels: channels(doc.Channels)}}
	if p := doc.Published; p != nil {
		v.Published = alert.Revision{Number: p.Version, Content: p.Content, Channels: channels(p.Channels)}
	}
	return v
}

// derive sets what follows from the progress and the versions. The published
// version is the last approved one, so its approval is the document's latest.
func derive(doc *Alert, v alert.Versions) {
	doc.Status = string(doc.Progress.Status())
	doc.FrAlert = string(doc.Progress.FrAlert)
	doc.Deliveries = deliveries(doc.Progress.Outcomes())
	doc.Cancellations = deliveries(doc.Progress.CancellationOutcomes())
	doc.Version, doc.Content, doc.Channels = v.Latest.Number, v.Latest.Content, names(v.Latest.Channels)
	doc.Published = nil
	if v.IsPublished() {
		doc.Published = version(v.Published)
		doc.Published.ApprovedBy = doc.ApprovedBy
		if doc.ApprovedAt != nil {
			at := *doc.ApprovedAt
			doc.Published.ApprovedAt = &at
		}
	}
	doc.PendingRevision = nil
	if r, ok := v.Pending(); ok {
		doc.PendingRevision = version(r)
	}
}

// version is the board's form of a version of the content, sharing nothing with it.
func version(r alert.Revision) *Version {
	return &Version{Version: r.Number, Content: alert.CloneContent(r.Content), Channels: names(r.Channels)}
}

// deliveries is the board's form of the outcomes, never nil (the screens show
// an empty list, not null).
func deliveries(outcomes []alert.ChannelOutcome) []Delivery {
	out := make([]Delivery, 0, len(outcomes))
	for _, o := range outcomes {
		out = append(out, Delivery{
			Channel: string(o.Channel), State: string(o.State), Reason: o.Reason, CountsKnown: o.CountsKnown,
			Recipients: o.Recipients, Sent: o.Sent, Delivered: o.Delivered, Failed: o.Failed,
		})
	}
	return out
}

func channels(names []string) []alert.Channel {
	out := make([]alert.Channel, len(names))
	for i, n := range names {
		out[i] = alert.Channel(n)
	}
	return out
}

func names(chs []alert.Channel) []string {
	out := make([]string, len(chs))
	for i, c := range chs {
		out[i] = string(c)
	}
	return out
}
