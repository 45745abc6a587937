package cap

import (
	"errors"
	"fmt"
	"strings"

	"vigie/events/territory"
	"vigie/services/alerts/alert"
)

// AlertInput is what a CAP message of a Vigie alert is rendered from. Content is the
// content that message carries: the published version, the last one a mayor approved,
// never a revision waiting for approval. It is the only text Render ever reads, so a
// revision cannot reach the public document before its approval.
type AlertInput struct {
	Domain   string // the alert's commune, dep:<dd>/com:<insee>
	Exercise bool
	// Messages are the alert's CAP messages, oldest first; Index is the one to render.
	// An Update and a Cancel reference every message before them.
	Messages []alert.Message
	Index    int
	Content  alert.Content
}

// Latest is in with Index on the last message.
func (in AlertInput) Latest() AlertInput {
	in.Index = len(in.Messages) - 1
	return in
}

// Sender names a commune as CAP's sender, e.g. vigie.dep30.com30189: no spaces,
// commas, '<' or '&', which references could not carry.
func Sender(domain string) string {
	return "vigie." + strings.NewReplacer(":", "", "/", ".").Replace(domain)
}

// insee is the commune's INSEE code in a domain ("" for a département).
func insee(domain string) string {
	d, err := territory.Parse(domain)
	if err != nil {
		return ""
	}
	return d.Commune
}

// Render builds the CAP 1.2 message in.Messages[in.Index] of an alert, with
// in.Content. It does not validate: Check and Document do.
func Render(in AlertInput) (Alert, error) {
	if in.Index < 0 || in.Index >= len(in.Messages) {
		return Alert{}, fmt.Errorf("cap: message %d of an alert with %d messages", in.Index, len(in.Messages))
	}
	code := insee(in.Domain)
	if code == "" {
		return Alert{}, fmt.Errorf("cap: %q is not a commune: an alert's area is a commune's", in.Domain)
	}
	m, c := in.Messages[in.Index], in.Content
	status := "Actual"
	if in.Exercise {
		status = "Exercise"
	}
	out := Alert{
		Identifier: m.Identifier, Sender: Sender(in.Domain), Sent: At(m.Sent), Status: status,
		MsgType: string(m.MsgType), Scope: "Public",
	}
	var refs []Reference
	for _, prev := range in.Messages[:in.Index] {
		refs = append(refs, Reference{Sender: out.Sender, Identifier: prev.Identifier, Sent: At(prev.Sent)})
	}
	if len(refs) > 0 {
		out.References = FormatReferences(refs)
	}
	area := Area{AreaDesc: c.AreaDesc, Geocodes: []NameValue{{ValueName: "INSEE", Value: code}}}
	if len(c.Polygon) >= 3 {
		pts := make([][2]float64, len(c.Polygon))
		for j, p := range c.Polygon {
			pts[j] = [2]float64{p.Lat, p.Lon}
		}
		area.Polygons = []string{Polygon(pts)}
	}
	lang := c.Language
	if lang == "" {
		// CAP's default language is en-US, which Vigie's texts are not.
		lang = "fr-FR"
	}
	info := Info{
		Language: lang, Categories: []string{string(c.Category)}, Event: c.Event,
		Urgency: string(c.Urgency), Severity: string(c.Severity), Certainty: string(c.Certainty),
		SenderName: SenderName(in.Domain), Headline: c.Headline, Description: c.Description, Instruction: c.Instruction,
		Areas: []Area{area},
	}
	if c.Effective != nil {
		info.Effective = At(*c.Effective)
	}
	// CAP forbids expires before sent; an alert approved after its content's expiry
	// is refused by the domain, but a Cancel may come later: it then carries no expiry.
	if c.Expires != nil && !c.Expires.Before(m.Sent) {
		info.Expires = At(*c.Expires)
	}
	out.Infos = []Info{info}
	return out, nil
}

// Check renders the message and validates it: nil when the document would be one the
// official schema and the CAP rules accept. The alerts service calls it before an
// approval is recorded, with the message the approval lets out (Messages ending with
// it) and the content being approved, so that nothing invalid is ever published.
func Check(in AlertInput) error {
	a, err := Render(in)
	if err != nil {
		return err
	}
	return a.Validate()
}

// ErrInvalid marks a message that was rendered but does not validate.
var ErrInvalid = errors.New("cap: invalid message")

// Document renders the message as a validated CAP 1.2 document: what is served and
// sent. An error wrapping ErrInvalid says the message does not validate; it must then
// not be published.
func Document(in AlertInput) ([]byte, error) {
	a, err := Render(in)
	if err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Marshal(a)
}
