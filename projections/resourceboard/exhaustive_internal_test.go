package resourceboard

import (
	"testing"

	"vigie/events/resource"
)

// The resource board handles every event of a resource's stream: a new event type in
// the contract fails here until apply says what it does to the board.
func TestTheBoardHandlesEveryResourceEvent(t *testing.T) {
	for _, e := range resource.Events() {
		// A document every event of the list changes: its zero values (no status, no
		// occupancy) differ from the document's.
		doc := &Resource{ID: "r1", Kind: string(resource.KindShelter), Status: string(resource.StatusAvailable), Capacity: 10, Occupancy: 5}
		if !apply(doc, e) {
			t.Errorf("the resource board ignores %s", e.EventType())
		}
	}
}
