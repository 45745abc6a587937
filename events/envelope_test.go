package events_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

// paris is fixed so the tests need no time zone database.
var paris = time.FixedZone("CEST", 2*60*60)

func validMetadata() events.Metadata {
	return events.Metadata{
		EventID:       "6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f11",
		CommandID:     "cmd-1",
		CorrelationID: "cmd-1",
		CausationID:   "cmd-1",
		Actor:         "sub-7c2e",
		Role:          "rac",
		Domain:        "dep:30/com:30189",
		OccurredAt:    time.Date(2026, 9, 14, 4, 12, 0, 0, paris),
		Schema:        2,
		TraceParent:   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		TraceState:    "vigie=1",
	}
}

func jsonKeys(t *testing.T, v any) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return raw
}

func TestMetadataJSONUsesExactlyTheContractKeys(t *testing.T) {
	contract := []string{"eventId", "commandId", "$correlationId", "$causationId", "actor", "role", "domain", "occurredAt", "schema", "traceparent"}

	t.Run("with a trace state", func(t *testing.T) {
		got := slices.Sorted(maps.Keys(jsonKeys(t, validMetadata())))
		want := slices.Sorted(slices.Values(append(slices.Clone(contract), "tracestate")))
		if !slices.Equal(got, want) {
			t.Errorf("keys = %v, want %v", got, want)
		}
	})

	t.Run("without trace context only tracestate is omitted", func(t *testing.T) {
		md := validMetadata()
		md.TraceParent, md.TraceState = "", ""
		got := slices.Sorted(maps.Keys(jsonKeys(t, md)))
		want := slices.Sorted(slices.Values(contract))
		if !slices.Equal(got, want) {
			t.Errorf("keys = %v, want %v", got, want)
		}
	})
}

// The actor's display name is recorded under actorName when the actor has one, and
// metadata written before names were still decodes, with no name.
func TestMetadataCarriesTheActorsNameWhenGiven(t *testing.T) {
	by := events.Actor{Subject: "rac-nimes", Role: events.RoleRAC, Name: "Marie Durand"}
	md := events.NewMetadata("cmd-1", by, "dep:30/com:30189", time.Date(2026, 9, 14, 4, 12, 0, 0, paris))
	if got := string(jsonKeys(t, md)["actorName"]); got != `"Marie Durand"` {
		t.Errorf("actorName = %s", got)
	}
	by.Name = ""
	if _, ok := jsonKeys(t, events.NewMetadata("cmd-2", by, "dep:30/com:30189", time.Now()))["actorName"]; ok {
		t.Error("actorName written for an actor without a name")
	}
	old := `{"eventId":"6f1c2a4e-8a53-4d8e-9c3b-0d5b9a7e2f11","commandId":"c","$correlationId":"c","$causationId":"c","actor":"rac-nimes","role":"rac","domain":"dep:30/com:30189","occurredAt":"2026-09-14T04:12:00+02:00","schema":1,"traceparent":""}`
	var got events.Metadata
	if err := json.Unmarshal([]byte(old), &got); err != nil || got.Actor != "rac-nimes" || got.ActorName != "" {
		t.Errorf("old metadata decoded as %+v, %v", got, err)
	}
}

func TestMetadataOccurredAtKeepsItsOffset(t *testing.T) {
	raw := jsonKeys(t, validMetadata())
	if got, want := string(raw["occurredAt"]), `"2026-09-14T04:12:00+02:00"`; got != want {
		t.Errorf("occurredAt = %s, want %s", got, want)
	}
	if got, want := string(raw["schema"]), `2`; got != want {
		t.Errorf("schema = %s, want the number %s", got, want)
	}
}

func TestMetadataValidate(t *testing.T) {
	tests := []struct {
		name  string
		clear func(*events.Metadata)
		want  error
		field string
	}{
		{"missing eventId", func(m *events.Metadata) { m.EventID = "" }, events.ErrMissingEventID, "eventId"},
		{"eventId not a UUID", func(m *events.Metadata) { m.EventID = "evt-1" }, events.ErrInvalidEventID, "eventId"},
		{"nil UUID eventId", func(m *events.Metadata) { m.EventID = "00000000-0000-0000-0000-000000000000" }, events.ErrInvalidEventID, "eventId"},
		{"missing commandId", func(m *events.Metadata) { m.CommandID = "" }, events.ErrMissingCommandID, "commandId"},
		{"missing actor", func(m *events.Metadata) { m.Actor = "" }, events.ErrMissingActor, "actor"},
		{"missing role", func(m *events.Metadata) { m.Role = "" }, events.ErrMissingRole, "role"},
		{"missing domain", func(m *events.Metadata) { m.Domain = "" }, events.ErrMissingDomain, "domain"},
		{"zero occurredAt", func(m *events.Metadata) { m.OccurredAt = time.Time{} }, events.ErrMissingOccurredAt, "occurredAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := validMetadata()
			tt.clear(&md)

			err := md.Validate()

			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, events.ErrInvalidMetadata) {
				t.Errorf("Validate() = %v, want it to be ErrInvalidMetadata", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %q, want it to name %s", err, tt.field)
			}
		})
	}

	t.Run("valid metadata passes", func(t *testing.T) {
		if err := validMetadata().Validate(); err != nil {
			t.Errorf("Validate() = %v, want nil", err)
		}
	})

	t.Run("every missing field is reported at once", func(t *testing.T) {
		err := events.Metadata{}.Validate()
		for _, want := range []error{events.ErrMissingEventID, events.ErrMissingCommandID, events.ErrMissingActor, events.ErrMissingRole, events.ErrMissingDomain, events.ErrMissingOccurredAt} {
			if !errors.Is(err, want) {
				t.Errorf("Validate() = %v, want it to include %v", err, want)
			}
		}
	})
}

func TestNewMetadataStartsAChainAtTheCommand(t *testing.T) {
	at := time.Date(2026, 9, 14, 4, 12, 0, 0, paris)
	rac := events.Actor{Subject: "sub-7c2e", Role: events.RoleRAC}

	a := events.NewMetadata("cmd-1", rac, "dep:30/com:30189", at)
	b := events.NewMetadata("cmd-1", rac, "dep:30/com:30189", at)

	if err := a.Validate(); err != nil {
		t.Fatalf("NewMetadata gave invalid metadata: %v", err)
	}
	if a.EventID == b.EventID {
		t.Errorf("two events of one command share event id %s", a.EventID)
	}
	if a.Actor != rac.Subject || a.Role != rac.Role {
		t.Errorf("actor, role = %q, %q, want %+v", a.Actor, a.Role, rac)
	}
	if a.CorrelationID != "cmd-1" || a.CausationID != "cmd-1" {
		t.Errorf("correlation, causation = %q, %q, want the command id", a.CorrelationID, a.CausationID)
	}
}

func TestCausedFollowsTheCausalChain(t *testing.T) {
	at := time.Date(2026, 9, 14, 4, 12, 0, 0, paris)
	// Given a station reading recorded by a command,
	reading := events.NewMetadata("cmd-reading", events.Actor{Subject: "sensor-30189-01", Role: events.RoleField}, "dep:30/com:30189", at)
	// when a reactor drafts an incident from it, and another drafts an alert from that,
	incident := events.NewMetadata("cmd-incident", events.Actor{Subject: "reactor-thresholds", Role: events.RoleRAC}, "dep:30/com:30189", at).Caused(reading)
	alert := events.NewMetadata("cmd-alert", events.Actor{Subject: "reactor-alerts", Role: events.RoleRAC}, "dep:30/com:30189", at).Caused(incident)

	// then every event is correlated with the reading, and each names its direct cause.
	if incident.CorrelationID != reading.CorrelationID || alert.CorrelationID != reading.CorrelationID {
		t.Errorf("correlations = %q, %q, want %q", incident.CorrelationID, alert.CorrelationID, reading.CorrelationID)
	}
	if incident.CausationID != reading.EventID {
		t.Errorf("incident causation = %q, want the reading %q", incident.CausationID, reading.EventID)
	}
	if alert.CausationID != incident.EventID {
		t.Errorf("alert causation = %q, want the incident %q", alert.CausationID, incident.EventID)
	}
	if alert.CommandID != "cmd-alert" || alert.Actor != "reactor-alerts" {
		t.Errorf("Caused changed the event's own fields: %+v", alert)
	}

	t.Run("a cause without correlation starts the chain at itself", func(t *testing.T) {
		cause := validMetadata()
		cause.CorrelationID = ""

		md := validMetadata().Caused(cause)

		if md.CorrelationID != cause.EventID {
			t.Errorf("correlation = %q, want the cause's event id %q", md.CorrelationID, cause.EventID)
		}
	})
}
