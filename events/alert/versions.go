package alert

import (
	"slices"
	"time"

	"vigie/events"
)

// Revision is one version of an alert's content: its number (1 when drafted,
// one more for each revision), the content residents read and the channels it
// goes out on.
type Revision struct {
	Number   int
	Content  Content
	Channels []Channel
}

// Versions are the versions of an alert that matter: the latest one written
// and the published one. It is the one place they are decided: the aggregate
// keeps one, and so does the alerts board, so that what the board shows as
// public is what the dispatcher sends.
//
// The safety rule it holds: only an approval publishes, and it publishes the
// latest version as it stood then. A revision written after it stays pending,
// never public, until a mayor approves it in turn.
type Versions struct {
	// Latest is the latest version written, approved or not; Number 0 before
	// the draft.
	Latest Revision
	// Published is the last approved version, the only one ever public or
	// sent; Number 0 before the first approval.
	Published Revision
}

// After returns the versions after e, an event of an alert's stream or of its
// dispatch journal. known is false for any other event, the versions then left
// as they were: every event type of the contract is named below, so that a new
// one cannot move the versions (or fail to) without saying so. What After keeps
// of e is copied: the event's slices and pointers may be reused afterwards.
func (v Versions) After(e events.Event) (next Versions, known bool) {
	switch e := e.(type) {
	case AlertDrafted:
		v.Latest = Revision{Number: 1, Content: CloneContent(e.Content), Channels: slices.Clone(e.Channels)}
	case AlertRevised:
		// The published version stays as it was: a revision is only pending
		// until a mayor approves it.
		v.Latest = Revision{Number: v.Latest.Number + 1, Content: CloneContent(e.Content), Channels: slices.Clone(e.Channels)}
	case AlertApproved:
		// The approval is of the latest version: the aggregate decides it only
		// for that one, and records its number in e.Version (absent from the
		// events written before the field existed).
		v.Published = v.Latest.Clone()
	case AlertSubmitted, AlertRejected,
		FrAlertRequested, FrAlertValidated, FrAlertRefused, FrAlertBroadcastConfirmed,
		AlertCancelled, AlertExpired,
		AlertDispatchStarted, AlertSent, AlertDispatchFailed, DeliveriesRecorded:
		// They move the alert's status or its dispatch, not its versions: a
		// cancelled or expired alert keeps the content it published, which the
		// cancellation references.
	default:
		return v, false
	}
	return v, true
}

// IsPublished reports whether a version has been approved.
func (v Versions) IsPublished() bool { return v.Published.Number > 0 }

// Pending returns the latest version while it waits for an approval (a first
// draft, or a revision of a published alert); ok is false before the draft and
// once the latest version is the published one.
func (v Versions) Pending() (r Revision, ok bool) {
	if v.Latest.Number == 0 || v.Published.Number == v.Latest.Number {
		return Revision{}, false
	}
	return v.Latest.Clone(), true
}

// Clone returns a deep copy.
func (v Versions) Clone() Versions {
	v.Latest, v.Published = v.Latest.Clone(), v.Published.Clone()
	return v
}

// Clone returns a deep copy.
func (r Revision) Clone() Revision {
	r.Content, r.Channels = CloneContent(r.Content), slices.Clone(r.Channels)
	return r
}

// CloneContent copies what a Content shares (its polygon and dates), so that
// two versions, or a version and the event it came from, never alias each
// other. An empty polygon is nil: the whole commune, however it was written.
func CloneContent(c Content) Content {
	if len(c.Polygon) == 0 {
		c.Polygon = nil
	} else {
		c.Polygon = slices.Clone(c.Polygon)
	}
	c.Effective, c.Expires = cloneTime(c.Effective), cloneTime(c.Expires)
	return c
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
