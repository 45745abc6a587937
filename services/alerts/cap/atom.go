package cap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// AtomNamespace is the Atom Syndication Format's namespace (RFC 4287).
const AtomNamespace = "http://www.w3.org/2005/Atom"

// Feed is a commune's Atom feed of its CAP alerts, as served at /cap/{commune}/feed.atom.
// Link is the feed's own address (rel="self"). Author names the publisher; RFC 4287 makes
// it mandatory on a feed whose entries have none, so when empty the Title stands in for it
// (the feed is titled after the commune that publishes it).
type Feed struct {
	ID      string // an absolute IRI, stable for the life of the feed
	Title   string
	Updated time.Time
	Link    string
	Author  string
	Entries []Entry
}

// Entry is one alert in the feed. Link is the address of its CAP message,
// /cap/alerts/{id}.xml, given as an alternate link of type application/cap+xml so CAP
// aggregators follow it to the message itself.
type Entry struct {
	ID      string // an absolute IRI
	Title   string
	Updated time.Time
	Summary string
	Link    string
}

// The wire shape of the feed; Feed and Entry stay plain so callers need no XML tags.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   atomText    `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomEntry struct {
	ID      string     `xml:"id"`
	Title   atomText   `xml:"title"`
	Updated string     `xml:"updated"`
	Summary *atomText  `xml:"summary"`
	Links   []atomLink `xml:"link"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// MarshalFeed writes f as an Atom 1.0 document, refusing a feed or entry without the id,
// title and updated RFC 4287 requires. Times are RFC 3339 to the second, in UTC.
func MarshalFeed(f Feed) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	out := atomFeed{
		ID:      f.ID,
		Title:   atomText{Type: "text", Text: f.Title},
		Updated: atomTime(f.Updated),
		Author:  atomPerson{Name: f.Author},
	}
	if out.Author.Name == "" {
		out.Author.Name = f.Title
	}
	if f.Link != "" {
		out.Links = []atomLink{{Rel: "self", Type: "application/atom+xml", Href: f.Link}}
	}
	for _, e := range f.Entries {
		ae := atomEntry{ID: e.ID, Title: atomText{Type: "text", Text: e.Title}, Updated: atomTime(e.Updated)}
		if e.Summary != "" {
			ae.Summary = &atomText{Type: "text", Text: e.Summary}
		}
		if e.Link != "" {
			ae.Links = []atomLink{{Rel: "alternate", Type: MIMEType, Href: e.Link}}
		}
		out.Entries = append(out.Entries, ae)
	}
	doc, err := document(out)
	if err != nil {
		return nil, fmt.Errorf("atom: writing feed %s: %w", f.ID, err)
	}
	return doc, nil
}

func atomTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

func (f Feed) validate() error {
	var errs []error
	check := func(where, id, title string, updated time.Time) {
		if u, err := url.Parse(id); id == "" || err != nil || !u.IsAbs() {
			errs = append(errs, fmt.Errorf("atom: %s: id %q must be an absolute IRI (RFC 4287 §4.2.6)", where, id))
		}
		if title == "" {
			errs = append(errs, fmt.Errorf("atom: %s: title required", where))
		}
		if updated.IsZero() {
			errs = append(errs, fmt.Errorf("atom: %s: updated required", where))
		}
	}
	check("feed", f.ID, f.Title, f.Updated)
	for i, e := range f.Entries {
		check(fmt.Sprintf("entry[%d]", i), e.ID, e.Title, e.Updated)
		// Without content, RFC 4287 §4.1.2 wants an alternate link or a summary.
		if e.Link == "" && e.Summary == "" {
			errs = append(errs, fmt.Errorf("atom: entry[%d]: needs a link to its CAP message or a summary", i))
		}
	}
	return errors.Join(errs...)
}
