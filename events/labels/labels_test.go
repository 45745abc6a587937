package labels_test

import (
	"slices"
	"strings"
	"testing"

	"vigie/events"
	"vigie/events/incident"
	"vigie/events/labels"
	"vigie/events/reinforcement"
)

func values(s labels.Set) []string {
	var out []string
	for _, e := range s.Entries() {
		out = append(out, e.Value)
	}
	return out
}

func sameValues[T ~string](t *testing.T, name string, s labels.Set, want []T) {
	t.Helper()
	var w []string
	for _, v := range want {
		w = append(w, string(v))
	}
	got := values(s)
	slices.Sort(got)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("%s: labelled values %v, the contract's %v", name, got, w)
	}
}

// The events module's own enums and roles have a label each, and no more; the
// services' enums are checked by the dashboard's generator, which sees them.
func TestTheContractsEnumsAndRolesHaveALabelEach(t *testing.T) {
	sameValues(t, "incident kinds", labels.IncidentKinds, incident.Kinds())
	sameValues(t, "severities", labels.Severities, incident.Severities())
	sameValues(t, "incident statuses", labels.IncidentStatuses, incident.Statuses())
	sameValues(t, "reinforcement statuses", labels.ReinforcementStatuses, reinforcement.Statuses())
	sameValues(t, "roles", labels.Roles, events.Roles)
}

func TestEverySetIsWellFormed(t *testing.T) {
	enums := map[string]bool{}
	for _, s := range labels.Sets() {
		if enums[s.Enum] {
			t.Errorf("two sets of enum %q", s.Enum)
		}
		enums[s.Enum] = true
		if len(s.Entries()) == 0 {
			t.Errorf("%s: no entry", s.Enum)
		}
		keys := map[string]bool{}
		for _, e := range s.Entries() {
			k := s.Key(e.Value)
			if keys[k] {
				t.Errorf("%s: %q twice", s.Enum, k)
			}
			keys[k] = true
			if e.Label == "" || strings.TrimSpace(e.Label) != e.Label {
				t.Errorf("%s.%s: label %q", s.Enum, e.Value, e.Label)
			}
			if s.Of(e.Value) != e.Label {
				t.Errorf("%s.Of(%q) = %q, want %q", s.Enum, e.Value, s.Of(e.Value), e.Label)
			}
		}
	}
}

func TestLabelsOfKnownAndUnknownValues(t *testing.T) {
	for _, c := range []struct {
		set       labels.Set
		v, want   string
		key, head string
	}{
		{labels.IncidentKinds, "flash_flood", "crue rapide", "FLASH_FLOOD", "Crue rapide"},
		{labels.Severities, "Severe", "sévère", "SEVERE", "Sévère"},
		{labels.ResourceStatuses, "engaged", "engagée", "ENGAGED", "Engagée"},
		{labels.AlertStatuses, "failed", "échec de la diffusion", "FAILED", "Échec de la diffusion"},
		{labels.Channels, "FR_ALERT", "FR-Alert", "FR_ALERT", "FR-Alert"},
		{labels.Roles, "rac", "coordinateur (RAC)", "rac", "Coordinateur (RAC)"},
		{labels.Roles, "mayor", "maire", "mayor", "Maire"},
		// A value added to the contract later shows as itself.
		{labels.IncidentKinds, "meteorite", "meteorite", "METEORITE", "Meteorite"},
	} {
		if got := c.set.Of(c.v); got != c.want {
			t.Errorf("Of(%q) = %q, want %q", c.v, got, c.want)
		}
		if got := c.set.Key(c.v); got != c.key {
			t.Errorf("Key(%q) = %q, want %q", c.v, got, c.key)
		}
		if got := labels.Capitalize(c.set.Of(c.v)); got != c.head {
			t.Errorf("Capitalize(%q) = %q, want %q", c.want, got, c.head)
		}
	}
	if labels.Capitalize("") != "" {
		t.Error("Capitalize of nothing")
	}
}

func TestEntriesIsACopy(t *testing.T) {
	e := labels.Roles.Entries()
	e[0].Label = "roi"
	if labels.Roles.Of("mayor") != "maire" {
		t.Error("changing Entries' result changed the set")
	}
}
