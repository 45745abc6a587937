package resident

import (
	"errors"
	"time"

	"vigie/events"
)

// The events of a resident's stream (resident-<id>) and of their key's
// (residentkey-<id>). Their names and JSON keys are written in the log for
// ever: add fields, never rename them. Nothing personal is in clear: the
// contact details are in Sealed, which only the resident's key opens.

// ResidentRegistered opens the stream. Channels are contract channel names;
// ConsentText is the text the resident accepted, as it was then. Exercises
// says the resident also agreed to receive the messages of exercises: an
// exercise reaches nobody else (registrations older than the field never
// agreed).
type ResidentRegistered struct {
	ResidentID  string    `json:"residentId"`
	Domain      string    `json:"domain"`
	Channels    []string  `json:"channels"`
	Language    string    `json:"language"`
	Exercises   bool      `json:"exercises,omitempty"`
	ConsentAt   time.Time `json:"consentAt"`
	ConsentText string    `json:"consentText"`
	Sealed      []byte    `json:"sealed"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// ResidentErased records the erasure; the key's stream is tombstoned with it.
type ResidentErased struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// ResidentKeyIssued is how keys were written before they were wrapped: the
// key that seals the resident's contact details, in clear. It is still read
// (older logs); new keys are ResidentKeyWrapped, and `vigie keys rotate`
// rewrites old ones wrapped. Erasure deletes the key streams, nothing else.
type ResidentKeyIssued struct {
	ResidentID string `json:"residentId"`
	Key        []byte `json:"key"`
}

// ResidentKeyWrapped is the event of a residentkey stream since keys are
// wrapped: the resident's key wrapped under the KEK KEKID. It replaces
// ResidentKeyIssued, whose clear key older logs still hold (read, and
// re-wrapped by a rotation).
type ResidentKeyWrapped struct {
	ResidentID string `json:"residentId"`
	KEKID      string `json:"kekId"`
	Wrapped    []byte `json:"wrapped"`
}

func (ResidentRegistered) EventType() string { return "ResidentRegistered" }
func (ResidentErased) EventType() string     { return "ResidentErased" }
func (ResidentKeyIssued) EventType() string  { return "ResidentKeyIssued" }
func (ResidentKeyWrapped) EventType() string { return "ResidentKeyWrapped" }

// KeyCategory is the stream category of residents' keys. No projection
// subscribes to it.
const KeyCategory = events.CategoryResidentKey

// StreamID is the resident's stream, resident-<id>.
func StreamID(residentID string) string { return events.StreamID(events.CategoryResident, residentID) }

// KeyStreamID is the stream of the resident's key, residentkey-<id>.
func KeyStreamID(residentID string) string { return events.StreamID(KeyCategory, residentID) }

// Events lists one value of every event type of a resident's stream and of their
// key's: the list every consumer's exhaustiveness test walks, so that a new event
// type fails the test of each consumer that does not handle it.
func Events() []events.Event {
	return []events.Event{ResidentRegistered{}, ResidentErased{}, ResidentKeyIssued{}, ResidentKeyWrapped{}}
}

// Register adds every resident event to r, at schema version 1.
func Register(r *events.Registry) error {
	return errors.Join(
		events.Register[ResidentRegistered](r, 1),
		events.Register[ResidentErased](r, 1),
		events.Register[ResidentKeyIssued](r, 1),
		events.Register[ResidentKeyWrapped](r, 1),
	)
}
