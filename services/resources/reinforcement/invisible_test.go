package reinforcement_test

import (
	"errors"
	"strings"
	"testing"

	"vigie/events"
	"vigie/services/resources/reinforcement"
)

// From the attacker's side (issue 14, point 8): a request's reason and the
// prefecture's note and refusal are read by the other side of the reinforcement
// workflow. With a direction override or a zero-width character they read
// otherwise than they were written: refused as invalid input naming the character.
func TestReasonsAndNotesWithInvisibleOrDirectionCharactersAreRefused(t *testing.T) {
	for _, c := range []struct {
		name, char string
		history    []events.Event
		when       command
	}{
		{"a request's reason with an isolate", "U+2066", nil,
			submit(with(func(s *reinforcement.Submission) { s.Reason = "Vidourle en crue \u2066urgent\u2069" }), rac)},
		{"an acceptance note with an override", "U+202E", histories[reinforcement.StatusRequested],
			accept(4, "depuis le CIS de \u202elenuL", cod)},
		{"a refusal with a zero-width space", "U+200B", histories[reinforcement.StatusRequested],
			refuse("moyens\u200b engagés à Alès", cod)},
	} {
		got, err := c.when(given(c.history...))
		if !errors.Is(err, reinforcement.ErrInvalidInput) || got != nil {
			t.Errorf("%s: events %v, error %v; want invalid input", c.name, got, err)
			continue
		}
		if !strings.Contains(err.Error(), c.char) {
			t.Errorf("%s: the error %q should name %s", c.name, err, c.char)
		}
	}
}
