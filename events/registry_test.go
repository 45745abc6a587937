package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

type incidentReported struct {
	IncidentID string    `json:"incidentId"`
	Title      string    `json:"title"`
	ReportedAt time.Time `json:"reportedAt"`
}

func (incidentReported) EventType() string { return "IncidentReported" }

// incidentQualified is at v3: v1 called the kind "type", v2 had no severity.
type incidentQualified struct {
	IncidentID string `json:"incidentId"`
	Kind       string `json:"kind"`
	Severity   string `json:"severity"`
}

func (incidentQualified) EventType() string { return "IncidentQualified" }

type resourceEngaged struct {
	ResourceID string `json:"resourceId"`
}

func (resourceEngaged) EventType() string { return "ResourceEngaged" }

type lowerCaseName struct{}

func (lowerCaseName) EventType() string { return "incidentReported" }

type systemName struct{}

func (systemName) EventType() string { return "$metadata" }

type dashedName struct{}

func (dashedName) EventType() string { return "Incident-Reported" }

type emptyName struct{}

func (emptyName) EventType() string { return "" }

type sameNameOtherType struct{}

func (sameNameOtherType) EventType() string { return "IncidentReported" }

// rewrite is an upcaster body working on a JSON object.
func rewrite(f func(map[string]any) error) func(json.RawMessage) (json.RawMessage, error) {
	return func(in json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(in, &m); err != nil {
			return nil, err
		}
		if err := f(m); err != nil {
			return nil, err
		}
		return json.Marshal(m)
	}
}

var (
	kindWasType = events.Upcaster{From: 1, Up: rewrite(func(m map[string]any) error {
		m["kind"] = m["type"]
		delete(m, "type")
		return nil
	})}
	// severityDefaultsToMinor refuses input without "kind", so a test only
	// passes when the v1→v2 step ran before it.
	severityDefaultsToMinor = events.Upcaster{From: 2, Up: rewrite(func(m map[string]any) error {
		if _, ok := m["kind"]; !ok {
			return errors.New(`v2 data without "kind"`)
		}
		if _, ok := m["severity"]; !ok {
			m["severity"] = "Minor"
		}
		return nil
	})}
)

func newRegistry(t *testing.T) *events.Registry {
	t.Helper()
	r := events.NewRegistry()
	if err := events.Register[incidentReported](r, 1); err != nil {
		t.Fatalf("register IncidentReported: %v", err)
	}
	// Upcasters given out of order on purpose: the registry orders them.
	if err := events.Register[incidentQualified](r, 3, severityDefaultsToMinor, kindWasType); err != nil {
		t.Fatalf("register IncidentQualified: %v", err)
	}
	return r
}

func metadataAt(t *testing.T, schema int) []byte {
	t.Helper()
	md := validMetadata()
	md.Schema = schema
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRegisterRefuses(t *testing.T) {
	noop := func(in json.RawMessage) (json.RawMessage, error) { return in, nil }
	tests := []struct {
		name     string
		register func(*events.Registry) error
		want     error
		says     string
	}{
		{"the same type twice", func(r *events.Registry) error {
			return events.Register[incidentReported](r, 2, events.Upcaster{From: 1, Up: noop})
		}, events.ErrDuplicateEventType, "IncidentReported"},
		{"another Go type under a taken name", func(r *events.Registry) error { return events.Register[sameNameOtherType](r, 1) }, events.ErrDuplicateEventType, "IncidentReported"},
		{"version 0", func(r *events.Registry) error { return events.Register[resourceEngaged](r, 0) }, events.ErrInvalidVersion, "ResourceEngaged"},
		{"a gap in the upcasters", func(r *events.Registry) error {
			return events.Register[resourceEngaged](r, 3, events.Upcaster{From: 1, Up: noop})
		}, events.ErrUpcasterChain, "from v2 to v3"},
		{"no upcasters for v2", func(r *events.Registry) error { return events.Register[resourceEngaged](r, 2) }, events.ErrUpcasterChain, "from v1 to v2"},
		{"two upcasters from one version", func(r *events.Registry) error {
			return events.Register[resourceEngaged](r, 2, events.Upcaster{From: 1, Up: noop}, events.Upcaster{From: 1, Up: noop})
		}, events.ErrUpcasterChain, "2 upcasters from v1"},
		{"an upcaster beyond the current version", func(r *events.Registry) error {
			return events.Register[resourceEngaged](r, 2, events.Upcaster{From: 1, Up: noop}, events.Upcaster{From: 2, Up: noop})
		}, events.ErrUpcasterChain, "from v2 is out of range"},
		{"an upcaster without a function", func(r *events.Registry) error {
			return events.Register[resourceEngaged](r, 2, events.Upcaster{From: 1})
		}, events.ErrUpcasterChain, "no function"},
		{"a pointer type", func(r *events.Registry) error { return events.Register[*resourceEngaged](r, 1) }, events.ErrInvalidEventType, "value type"},
		{"an interface type", func(r *events.Registry) error { return events.Register[events.Event](r, 1) }, events.ErrInvalidEventType, "value type"},
		{"a lower-case name", func(r *events.Registry) error { return events.Register[lowerCaseName](r, 1) }, events.ErrInvalidEventType, "incidentReported"},
		{"a system name", func(r *events.Registry) error { return events.Register[systemName](r, 1) }, events.ErrInvalidEventType, "$metadata"},
		{"a dashed name", func(r *events.Registry) error { return events.Register[dashedName](r, 1) }, events.ErrInvalidEventType, "Incident-Reported"},
		{"an empty name", func(r *events.Registry) error { return events.Register[emptyName](r, 1) }, events.ErrInvalidEventType, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry(t)

			err := tt.register(r)

			if !errors.Is(err, tt.want) {
				t.Fatalf("Register = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Register = %q, want it to say %q", err, tt.says)
			}
		})
	}
}

func TestMustRegisterPanicsOnADuplicate(t *testing.T) {
	r := events.NewRegistry()
	events.MustRegister[resourceEngaged](r, 1)
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, events.ErrDuplicateEventType) {
			t.Errorf("recovered %v, want ErrDuplicateEventType", err)
		}
	}()
	events.MustRegister[resourceEngaged](r, 1)
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := newRegistry(t)
	want := incidentReported{IncidentID: "i-1", Title: "Vidourle en crue à Sommières", ReportedAt: time.Date(2026, 9, 14, 4, 10, 0, 0, paris)}
	md := validMetadata()
	md.Schema = 0

	env, err := r.Encode(context.Background(), want, md)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	if id, _ := events.ParseUUID(md.EventID); env.ID != id {
		t.Errorf("envelope id = %s, want the metadata's eventId %s", events.FormatUUID(env.ID), md.EventID)
	}
	if env.Type != "IncidentReported" {
		t.Errorf("envelope type = %q", env.Type)
	}
	if !json.Valid(env.Data) || !json.Valid(env.Metadata) {
		t.Fatalf("envelope is not JSON: %s / %s", env.Data, env.Metadata)
	}

	got, gotMD, err := r.Decode(env.Type, env.Data, env.Metadata)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	switch e := got.(type) {
	case incidentReported:
		if e.IncidentID != want.IncidentID || e.Title != want.Title || !e.ReportedAt.Equal(want.ReportedAt) {
			t.Errorf("event = %+v, want %+v", e, want)
		}
	default:
		t.Fatalf("Decode returned %T, want the value type incidentReported", got)
	}
	if gotMD.Schema != 1 {
		t.Errorf("schema = %d, want the registered version 1", gotMD.Schema)
	}
	if !gotMD.OccurredAt.Equal(md.OccurredAt) {
		t.Errorf("occurredAt = %v, want %v", gotMD.OccurredAt, md.OccurredAt)
	}
	gotMD.OccurredAt, md.OccurredAt = time.Time{}, time.Time{}
	md.Schema, md.TraceParent, md.TraceState = 1, "", ""
	if gotMD != md {
		t.Errorf("metadata = %+v, want %+v", gotMD, md)
	}
}

func TestEncodeStampsTheRegisteredSchemaVersion(t *testing.T) {
	r := newRegistry(t)
	md := validMetadata()
	md.Schema = 7

	env, err := r.Encode(context.Background(), incidentQualified{IncidentID: "i-1", Kind: "flood", Severity: "Severe"}, md)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	if got := string(jsonKeys(t, json.RawMessage(env.Metadata))["schema"]); got != "3" {
		t.Errorf("schema = %s, want 3", got)
	}
}

func TestEncodeWritesTheEventIDInCanonicalForm(t *testing.T) {
	r := newRegistry(t)
	md := validMetadata()
	md.EventID = "{" + strings.ToUpper(md.EventID) + "}"

	env, err := r.Encode(context.Background(), incidentReported{IncidentID: "i-1"}, md)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	if got, want := string(jsonKeys(t, json.RawMessage(env.Metadata))["eventId"]), `"`+events.FormatUUID(env.ID)+`"`; got != want {
		t.Errorf("eventId = %s, want %s", got, want)
	}
}

func TestEncodeRefuses(t *testing.T) {
	missingActor := validMetadata()
	missingActor.Actor = ""
	tests := []struct {
		name  string
		event events.Event
		md    events.Metadata
		want  error
		says  string
	}{
		{"an unregistered type", resourceEngaged{ResourceID: "pump-12"}, validMetadata(), events.ErrUnknownEventType, "resourceEngaged"},
		{"a pointer to a registered type", &incidentReported{IncidentID: "i-1"}, validMetadata(), events.ErrUnknownEventType, "pointer"},
		{"a nil pointer", (*incidentReported)(nil), validMetadata(), events.ErrUnknownEventType, "pointer"},
		{"a nil event", nil, validMetadata(), events.ErrUnknownEventType, "nil"},
		{"metadata without actor", incidentReported{IncidentID: "i-1"}, missingActor, events.ErrMissingActor, "actor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry(t)

			_, err := r.Encode(context.Background(), tt.event, tt.md)

			if !errors.Is(err, tt.want) {
				t.Fatalf("Encode = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Encode = %q, want it to say %q", err, tt.says)
			}
		})
	}
}

func TestDecodeUpcastsOldVersions(t *testing.T) {
	tests := []struct {
		name   string
		schema int
		data   string
		want   incidentQualified
	}{
		{"v1 through two upcasters", 1, `{"incidentId":"i-1","type":"flash_flood"}`, incidentQualified{IncidentID: "i-1", Kind: "flash_flood", Severity: "Minor"}},
		{"v2 through the last upcaster only", 2, `{"incidentId":"i-1","kind":"flood"}`, incidentQualified{IncidentID: "i-1", Kind: "flood", Severity: "Minor"}},
		{"v3 as it is", 3, `{"incidentId":"i-1","kind":"flood","severity":"Extreme"}`, incidentQualified{IncidentID: "i-1", Kind: "flood", Severity: "Extreme"}},
		{"no schema reads as v1", 0, `{"incidentId":"i-1","type":"storm"}`, incidentQualified{IncidentID: "i-1", Kind: "storm", Severity: "Minor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry(t)

			got, md, err := r.Decode("IncidentQualified", []byte(tt.data), metadataAt(t, tt.schema))

			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tt.want {
				t.Errorf("event = %#v, want %#v", got, tt.want)
			}
			if md.Schema != tt.schema {
				t.Errorf("metadata schema = %d, want it as recorded (%d)", md.Schema, tt.schema)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name     string
		typ      string
		data     string
		metadata func(*testing.T) []byte
		want     error
		says     string
	}{
		{"an unknown type", "IncidentRenamed", `{}`, func(t *testing.T) []byte { return metadataAt(t, 1) }, events.ErrUnknownEventType, "IncidentRenamed"},
		{"a future schema", "IncidentQualified", `{}`, func(t *testing.T) []byte { return metadataAt(t, 4) }, events.ErrFutureSchema, "v4"},
		{"a negative schema", "IncidentQualified", `{}`, func(t *testing.T) []byte { return metadataAt(t, -1) }, events.ErrMalformed, "schema -1"},
		{"data that is not JSON", "IncidentReported", `{"incidentId":`, func(t *testing.T) []byte { return metadataAt(t, 1) }, events.ErrMalformed, "data"},
		{"data of the wrong shape", "IncidentReported", `{"incidentId":42}`, func(t *testing.T) []byte { return metadataAt(t, 1) }, events.ErrMalformed, "data"},
		{"metadata that is not JSON", "IncidentReported", `{}`, func(*testing.T) []byte { return []byte("not json") }, events.ErrMalformed, "metadata"},
		{"an upcaster failing", "IncidentQualified", `["not an object"]`, func(t *testing.T) []byte { return metadataAt(t, 1) }, events.ErrUpcast, "v1 to v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry(t)

			e, _, err := r.Decode(tt.typ, []byte(tt.data), tt.metadata(t))

			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, %v, want %v", e, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Decode = %q, want it to say %q", err, tt.says)
			}
		})
	}

	t.Run("the JSON error stays reachable", func(t *testing.T) {
		_, _, err := newRegistry(t).Decode("IncidentReported", []byte(`{"incidentId":`), metadataAt(t, 1))
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("Decode = %v, want it to wrap *json.SyntaxError", err)
		}
	})
}
