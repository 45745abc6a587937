package policies

import (
	"errors"
	"testing"

	"vigie/events/role"
)

// The authorizer handles every event of a role stream: a new event type in the
// contract (events/role) fails here until role.EffectOf, which Apply follows, says what it grants.
func TestTheAuthorizerHandlesEveryRoleEvent(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range role.Events() {
		if err := a.Apply(e); errors.Is(err, role.ErrUnknownEvent) {
			t.Errorf("the authorizer ignores %s", e.EventType())
		}
	}
}
