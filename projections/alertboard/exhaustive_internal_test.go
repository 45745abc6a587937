package alertboard

import (
	"testing"

	"vigie/events/alert"
)

// The alerts board handles every event of an alert's stream and of its dispatch
// journal: a new event type in the contract fails here until apply says what it does
// to the board (even if only through the progress, which decides the status).
func TestTheBoardHandlesEveryAlertEvent(t *testing.T) {
	for _, e := range alert.Events() {
		doc := &Alert{ID: "a1", Messages: []alert.Message{}, Deliveries: []Delivery{}, Cancellations: []Delivery{}}
		if !apply(doc, e) {
			t.Errorf("the alerts board ignores %s", e.EventType())
		}
	}
}
