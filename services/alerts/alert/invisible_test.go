package alert

import (
	"errors"
	"strings"
	"testing"

	"vigie/events"
)

// From the attacker's side (issue 14, point 8): an alert whose text holds a
// right-to-left override, a zero-width space or a direction isolate would reach
// residents reading otherwise than the mayor approved, or look like another alert
// on the board. Every text of the content and every reason is refused, naming the
// field and the character.
func TestInvisibleAndDirectionCharactersAreRefusedInEveryText(t *testing.T) {
	const rlo, zwsp, lri = "\u202e", "\u200b", "\u2066"
	content := func(change func(*Content)) Draft { d := validDraft(); change(&d.Content); return d }
	for _, c := range []struct {
		name, field, char string
		when              command
		history           []events.Event
	}{
		{"a headline with a right-to-left override", "headline", "U+202E",
			draft(content(func(c *Content) { c.Headline = "Crue : " + rlo + "egaté'l à zetnom" }), rac, at(0)), nil},
		{"an event with a zero-width space", "event", "U+200B",
			draft(content(func(c *Content) { c.Event = "Crue" + zwsp + " soudaine" }), rac, at(0)), nil},
		{"a description with an isolate", "description", "U+2066",
			draft(content(func(c *Content) { c.Description = "Le Cadereau déborde.\n" + lri + "Restez chez vous" }), rac, at(0)), nil},
		{"an instruction with a byte order mark", "instruction", "U+FEFF",
			draft(content(func(c *Content) { c.Instruction = "Montez\ufeff à l'étage" }), rac, at(0)), nil},
		{"an area with a word joiner", "areaDesc", "U+2060",
			draft(content(func(c *Content) { c.AreaDesc = "Nîmes\u2060, Richelieu" }), rac, at(0)), nil},
		{"an exercise headline with an override", "headline", "U+202E",
			draft(func() Draft {
				d := content(func(c *Content) { c.Headline = rlo + "Crue" })
				d.Exercise = true
				return d
			}(), rac, at(0)), nil},
		{"a revision's headline with a left-to-right override", "headline", "U+202D",
			revise(Revision{Content: func() Content { c := revisedFlood(); c.Headline = "Évacuez\u202d le rez-de-chaussée"; return c }(),
				Channels: []Channel{ChannelSMS, ChannelCAPFeed}}, rac, at(4)), given(drafted())},
		{"a rejection reason with a zero-width space", "reason", "U+200B",
			reject("Précisez"+zwsp+" les rues", mayor, at(3)), pending()},
		{"a cancellation reason with an isolate", "reason", "U+2066",
			cancel(lri+"Fin de l'alerte", mayor, at(30)), out()},
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
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("the message does not name the field: %v", err)
			}
		})
	}
}

// The soft hyphen of word processors and the emoji presentation selector are
// what French alerts pasted from a plan or typed on a phone hold: accepted.
func TestAlertTextsKeepSoftHyphensAndEmoji(t *testing.T) {
	d := validDraft()
	d.Content.Headline = "⚠\ufe0f Crue du Cadereau : montez à l'éta\u00adge"
	_, got, err := decide(t, given(), draft(d, rac, at(0)))
	if err != nil || len(got) != 1 {
		t.Fatalf("refused: %v", err)
	}
	if h := got[0].(AlertDrafted).Content.Headline; h != d.Content.Headline {
		t.Errorf("headline %q, want %q", h, d.Content.Headline)
	}
}
