package reinforcement_test

import (
	"errors"
	"reflect"
	"testing"

	"vigie/events"
	"vigie/services/resources/reinforcement"
)

func TestACommuneRequestsReinforcementsForItsOwnIncidentsOnly(t *testing.T) {
	const nimes = "dep:30/com:30189"
	for _, tc := range []struct {
		name   string
		domain string
		by     events.Actor
		then   []events.Event
		err    error
	}{
		{name: "its own incident", domain: sommieres, by: rac, then: []events.Event{requested()}},
		{name: "another commune's incident", domain: nimes, by: rac, err: reinforcement.ErrIncidentOfAnotherCommune},
		{name: "an incident unknown to the caller", domain: "", by: rac, err: reinforcement.ErrIncidentNotFound},
		{name: "the commune's rules first", domain: "", by: operator, err: reinforcement.ErrCommuneOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r reinforcement.Request
			got, err := r.SubmitFor(submission(), tc.domain, tc.by, at)
			if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("SubmitFor = %v, %v; want %v, %v", got, err, tc.then, tc.err)
			}
		})
	}
	if !errors.Is(reinforcement.ErrIncidentNotFound, events.ErrNotFound) {
		t.Error("an unknown incident is not of the not-found family")
	}
}
