package resource_test

import (
	"errors"
	"testing"

	"vigie/services/resources/resource"
)

func TestParseKind(t *testing.T) {
	for _, k := range resource.Kinds() {
		if got, err := resource.ParseKind(string(k)); got != k || err != nil {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	for _, s := range []string{"", "SHELTER", "boat", " team"} {
		if got, err := resource.ParseKind(s); got != "" || !errors.Is(err, resource.ErrUnknownKind) {
			t.Errorf("ParseKind(%q) = %q, %v, want ErrUnknownKind", s, got, err)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range resource.Statuses() {
		if got, err := resource.ParseStatus(string(s)); got != s || err != nil {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "AVAILABLE", "broken"} {
		if got, err := resource.ParseStatus(s); got != "" || !errors.Is(err, resource.ErrUnknownStatus) {
			t.Errorf("ParseStatus(%q) = %q, %v, want ErrUnknownStatus", s, got, err)
		}
	}
}

func TestKindsAndStatusesAreFreshCopies(t *testing.T) {
	resource.Kinds()[0] = "boat"
	resource.Statuses()[0] = "broken"
	if resource.Kinds()[0] != resource.KindTeam || resource.Statuses()[0] != resource.StatusAvailable {
		t.Error("a caller changed the package's list")
	}
}
