package incident

import (
	"errors"
	"testing"

	"vigie/events"
)

// From the attacker's side (issue 14, point 8): a title with a zero-width space
// looks like another incident's on the board, a log entry with a direction isolate
// or override reads in the main courante otherwise than it was written (and so in
// the after-action review). Every text is refused, naming the field and the
// character.
func TestInvisibleAndDirectionCharactersAreRefusedInEveryText(t *testing.T) {
	valid := Report{IncidentID: "inc-1", Domain: nimes, Kind: KindFlood, Title: "Eau sur la chaussée"}
	reportWith := func(change func(*Report)) command { r := valid; change(&r); return report(r, rac, at(0)) }
	open := given(reported())
	for _, c := range []struct {
		name, field, char string
		history           []events.Event
		when              command
	}{
		{"a title with a zero-width space", "title", "U+200B", nil,
			reportWith(func(r *Report) { r.Title = "Eau sur la\u200b chaussée" })},
		{"a title with a right-to-left mark", "title", "U+200F", nil,
			reportWith(func(r *Report) { r.Title = "\u200fEau sur la chaussée" })},
		{"a description with a right-to-left override", "description", "U+202E", nil,
			reportWith(func(r *Report) { r.Description = "Pont fermé.\n\u202eLa route est libre" })},
		{"a log entry with a left-to-right isolate", "text", "U+2066", open,
			addEntry(AddLogEntry{EntryID: "e1", Text: "Pompiers sur place \u2066RAS\u2069"}, operator, at(15))},
		{"a correction with a pop directional isolate", "text", "U+2069", given(reported(), entry("e1", "Pont fermé", "")),
			addEntry(AddLogEntry{EntryID: "e2", Text: "Pont rouvert\u2069", Corrects: "e1"}, operator, at(16))},
		{"an escalation reason with an Arabic letter mark", "reason", "U+061C", given(reported(), qualified()),
			escalate("Renforts\u061c nécessaires", mayor, at(30))},
		{"a closing summary with a byte order mark", "summary", "U+FEFF", open,
			closeWith("\ufeffDécrue", rac, at(400))},
		{"a reopening reason with a word joiner", "reason", "U+2060", given(reported(), closed(rac)),
			reopen("Nouvelle\u2060 montée", rac, at(500))},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := thenRefused(t, c.history, c.when, ErrInvalidInput)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("error = %v, want field %q", err, c.field)
			}
			if want := "caractère invisible ou de contrôle de direction interdit (" + c.char + ")"; ie.Problem != want {
				t.Errorf("problem %q, want %q", ie.Problem, want)
			}
		})
	}
}
