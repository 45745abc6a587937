package resource_test

import (
	"errors"
	"reflect"
	"testing"

	"vigie/events"
	"vigie/services/resources/resource"
)

func TestAResourceIsEngagedOnlyOnAnIncidentOfItsOwnCommune(t *testing.T) {
	const ales = "dep:30/com:30007"
	for _, tc := range []struct {
		name             string
		incident, domain string
		then             []events.Event
		err              error
	}{
		{name: "an incident of its commune", incident: "inc-7", domain: nimes, then: []events.Event{engaged("inc-7")}},
		{name: "an incident of another commune", incident: "inc-ales", domain: ales, err: resource.ErrIncidentOfAnotherCommune},
		{name: "an incident unknown to the caller", incident: "inc-x", domain: "", err: resource.ErrIncidentNotFound},
		{name: "no incident id at all", incident: "", domain: "", err: resource.ErrInvalidIncidentID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := given(pumpRegistered()).EngageOn(tc.incident, tc.domain, rac, at)
			if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.then) {
				t.Fatalf("EngageOn = %v, %v; want %v, %v", got, err, tc.then, tc.err)
			}
		})
	}
	if !errors.Is(resource.ErrIncidentNotFound, events.ErrNotFound) {
		t.Error("an unknown incident is not of the not-found family: the service would not answer it as an unknown id")
	}
	if _, err := given().EngageOn("inc-7", nimes, rac, at); !errors.Is(err, resource.ErrNotFound) {
		t.Errorf("a resource never registered: %v", err)
	}
}
