package events_test

import (
	"errors"
	"strings"
	"testing"

	"vigie/events"
)

func TestStreamIDSplitsBackIntoItsCategory(t *testing.T) {
	tests := []struct {
		category, id string
	}{
		{events.CategoryIncident, "3f2a9c1e-5b7d-4e08-a1c4-9d2e6f0b7a35"},
		{events.CategoryResource, "pump-12"},
		{events.CategoryAlert, "a1"},
		{events.CategoryResident, "r-42"},
		{events.CategoryRole, "dep:30/com:30189"},
	}
	for _, tt := range tests {
		t.Run(tt.category, func(t *testing.T) {
			stream := events.StreamID(tt.category, tt.id)

			if want := tt.category + "-" + tt.id; stream != want {
				t.Errorf("StreamID = %q, want %q", stream, want)
			}
			if got := events.Category(stream); got != tt.category {
				t.Errorf("Category(%q) = %q, want %q", stream, got, tt.category)
			}
			if err := events.ValidateStreamID(stream); err != nil {
				t.Errorf("ValidateStreamID(%q) = %v", stream, err)
			}
		})
	}
}

func TestCategoryWithoutSeparatorIsEmpty(t *testing.T) {
	for _, stream := range []string{"incident", "", "-orphan"} {
		if got := events.Category(stream); got != "" {
			t.Errorf("Category(%q) = %q, want empty", stream, got)
		}
	}
}

func TestValidateStreamID(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   error
	}{
		{"ordinary", "incident-42", nil},
		{"512 bytes", "incident-" + strings.Repeat("x", 512-len("incident-")), nil},
		{"non-ASCII letters", "resident-élodie", nil},
		{"empty", "", events.ErrEmptyStreamID},
		{"system stream", "$all", events.ErrSystemStreamID},
		{"system category", "$ce-incident", events.ErrSystemStreamID},
		{"NUL", "incident-4\x002", events.ErrStreamIDControlChar},
		{"newline", "incident-4\n2", events.ErrStreamIDControlChar},
		{"DEL", "incident-4\x7f", events.ErrStreamIDControlChar},
		{"C1 control", "incident-4\u0085", events.ErrStreamIDControlChar},
		{"invalid UTF-8", "incident-\xff", events.ErrStreamIDNotUTF8},
		{"513 bytes", "incident-" + strings.Repeat("x", 513-len("incident-")), events.ErrStreamIDTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := events.ValidateStreamID(tt.stream)

			if tt.want == nil {
				if err != nil {
					t.Errorf("ValidateStreamID = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("ValidateStreamID = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, events.ErrInvalidStreamID) {
				t.Errorf("ValidateStreamID = %v, want it to be ErrInvalidStreamID", err)
			}
		})
	}
}
