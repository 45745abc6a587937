// Package alertboard is the alerts board and the approvals inbox: every alert of a
// commune with its status, CAP content and messages, and delivery counts per channel.
// It holds no resident's data: the dispatch journal gives counts only.
//
// Keys (under the projection's versioned prefix):
//
//	alert:<id>            JSON document of the alert
//	board:<domain>        zset of the alerts of a commune or a département, by draft time
//	status:<domain>:<st>  zset of the alerts in a status (the inbox reads pending_approval
//	                      and fr_alert_requested), same score
//
// Every alert is indexed under its commune and its département.
package alertboard

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/projections"
	"vigie/services/alerts/alert"
)

// Name of the read model.
const Name = "alerts"

// Delivery counts one channel's messages over every message of the alert.
type Delivery struct {
	Channel    string `json:"channel"`
	Recipients int    `json:"recipients"`
	Sent       int    `json:"sent"`
	Delivered  int    `json:"delivered"`
	Failed     int    `json:"failed"`
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
	ID          string          `json:"id"`
	Domain      string          `json:"domain"`
	IncidentID  string          `json:"incidentId,omitempty"`
	Status      string          `json:"status"`
	Content     alert.Content   `json:"content"`
	Channels    []string        `json:"channels"`
	Exercise    bool            `json:"exercise"`
	Author      string          `json:"author"`
	ApprovedBy  string          `json:"approvedBy,omitempty"`
	Waived      bool            `json:"selfApprovalWaived,omitempty"`
	FrAlert     string          `json:"frAlert,omitempty"` // requested, validated, refused
	Reason      string          `json:"reason,omitempty"`  // of the last rejection, refusal or cancellation
	Messages    []alert.Message `json:"messages"`
	Deliveries  []Delivery      `json:"deliveries"`
	Failures    []Failure       `json:"failures,omitempty"`
	DraftedAt   time.Time       `json:"draftedAt"`
	SubmittedAt *time.Time      `json:"submittedAt,omitempty"`
	ApprovedAt  *time.Time      `json:"approvedAt,omitempty"`
	SentAt      *time.Time      `json:"sentAt,omitempty"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	// sent remembers that a message went out, so the FR-Alert decision returns the
	// status to where the dispatch is.
	Dispatch string `json:"dispatch,omitempty"` // "", dispatching, sent
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

func (*Projection) Name() string                 { return Name }
func (*Projection) StreamPrefixes() []string     { return []string{"alert-", "dispatch-"} }
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
			doc = &Alert{ID: d.AlertID, Domain: d.Domain, DraftedAt: d.At, Messages: []alert.Message{}, Deliveries: []Delivery{}}
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
// status follows the domain's lifecycle (alert.Alert); the board keeps only what
// screens show.
func apply(doc *Alert, e events.Event) bool {
	switch ev := e.(type) {
	case alert.AlertDrafted:
		doc.IncidentID, doc.Content, doc.Channels, doc.Exercise, doc.Author = ev.IncidentID, ev.Content, names(ev.Channels), ev.Exercise, ev.By
		doc.Status = string(alert.StatusDraft)
	case alert.AlertRevised:
		doc.Content, doc.Channels, doc.Author = ev.Content, names(ev.Channels), ev.By
		doc.Status, doc.ApprovedBy, doc.Waived = string(alert.StatusDraft), "", false
		doc.FrAlert, doc.Dispatch = "", ""
	case alert.AlertSubmitted:
		doc.Status, doc.SubmittedAt = string(alert.StatusPendingApproval), &ev.At
	case alert.AlertApproved:
		doc.Status, doc.ApprovedBy, doc.Waived, doc.ApprovedAt = string(alert.StatusApproved), ev.By, ev.SelfApprovalWaived, &ev.At
		doc.Messages = append(doc.Messages, ev.Message)
		doc.Reason = ""
	case alert.AlertRejected:
		doc.Status, doc.Reason = string(alert.StatusRejected), ev.Reason
	case alert.FrAlertRequested:
		doc.FrAlert, doc.Status = "requested", string(alert.StatusFrAlertRequested)
	case alert.FrAlertValidated:
		doc.FrAlert, doc.Status = "validated", dispatchStatus(doc)
	case alert.FrAlertRefused:
		doc.FrAlert, doc.Reason, doc.Status = "refused", ev.Reason, dispatchStatus(doc)
	case alert.AlertCancelled:
		doc.Status, doc.Reason = string(alert.StatusCancelled), ev.Reason
		if ev.Message != nil {
			doc.Messages = append(doc.Messages, *ev.Message)
		}
	case alert.AlertExpired:
		doc.Status = string(alert.StatusExpired)
	case alert.AlertDispatchStarted:
		doc.Dispatch = "dispatching"
		// In the alert's order of channels, not the map's: a rebuild must write the
		// same document byte for byte.
		for _, ch := range slices.Sorted(maps.Keys(ev.Recipients)) {
			delivery(doc, ch).Recipients += ev.Recipients[ch]
		}
		slices.SortStableFunc(doc.Deliveries, func(a, b Delivery) int {
			return slices.Index(doc.Channels, a.Channel) - slices.Index(doc.Channels, b.Channel)
		})
		if doc.FrAlert != "requested" {
			doc.Status = string(alert.StatusDispatching)
		}
	case alert.AlertSent:
		doc.Dispatch, doc.SentAt = "sent", &ev.At
		if doc.FrAlert != "requested" {
			doc.Status = string(alert.StatusSent)
		}
	case alert.AlertDispatchFailed:
		doc.Failures = append(doc.Failures, Failure{Identifier: ev.Identifier, Channel: string(ev.Channel), Reason: ev.Reason, At: ev.At})
		if len(doc.Failures) >= len(doc.Channels) && doc.FrAlert != "requested" && allFailed(doc) {
			doc.Status = string(alert.StatusFailed)
		}
	case alert.DeliveriesRecorded:
		d := delivery(doc, string(ev.Channel))
		d.Sent += ev.Sent
		d.Delivered += ev.Delivered
		d.Failed += ev.Failed
	default:
		return false
	}
	return true
}

func dispatchStatus(doc *Alert) string {
	switch doc.Dispatch {
	case "dispatching":
		return string(alert.StatusDispatching)
	case "sent":
		return string(alert.StatusSent)
	}
	return string(alert.StatusApproved)
}

// allFailed: every channel of the latest message failed for good.
func allFailed(doc *Alert) bool {
	if len(doc.Messages) == 0 {
		return false
	}
	latest := doc.Messages[len(doc.Messages)-1].Identifier
	for _, ch := range doc.Channels {
		if !slices.ContainsFunc(doc.Failures, func(f Failure) bool { return f.Identifier == latest && f.Channel == ch }) {
			return false
		}
	}
	return true
}

func delivery(doc *Alert, ch string) *Delivery {
	for i := range doc.Deliveries {
		if doc.Deliveries[i].Channel == ch {
			return &doc.Deliveries[i]
		}
	}
	doc.Deliveries = append(doc.Deliveries, Delivery{Channel: ch})
	return &doc.Deliveries[len(doc.Deliveries)-1]
}

func names(chs []alert.Channel) []string {
	out := make([]string, len(chs))
	for i, c := range chs {
		out[i] = string(c)
	}
	return out
}
