package cap

import (
	"time"

	"vigie/events/labels"
)

// SenderName is the publisher of a domain's alerts as a person reads it, in a CAP
// message's senderName and as the author of its feed: « Vigie — Nîmes ». Sender is
// the identifier programs compare.
func SenderName(domain string) string { return "Vigie — " + labels.Place(domain) }

// FeedItem is one public alert of a commune's feed: its id (its document is
// /cap/alerts/{AlertID}.xml) and its latest public message.
type FeedItem struct {
	AlertID string
	Input   AlertInput
}

// CommuneFeed is the Atom feed of a commune's public alerts, in French: « Alertes
// de Nîmes », an entry per alert titled with its headline (« Annulé : … » once
// cancelled), updated when its latest message was sent. The caller leaves out what
// is not public or does not validate (Check): an entry stands for the document it
// links to.
func CommuneFeed(domain string, items []FeedItem) Feed {
	code := insee(domain)
	base := "urn:vigie:cap:" + code
	f := Feed{ID: base, Title: "Alertes " + labels.PlaceIn(domain), Link: "/cap/" + code + "/feed.atom",
		Author: SenderName(domain), Updated: time.Unix(0, 0).UTC()}
	for _, it := range items {
		in := it.Input
		if in.Index < 0 || in.Index >= len(in.Messages) {
			continue
		}
		last, c := in.Messages[in.Index], in.Content
		if last.Sent.After(f.Updated) {
			f.Updated = last.Sent
		}
		title := c.Headline
		if last.MsgType == "Cancel" {
			title = "Annulé : " + title
		}
		f.Entries = append(f.Entries, Entry{ID: base + ":" + last.Identifier, Title: title, Updated: last.Sent, Summary: c.Description,
			Link: "/cap/alerts/" + it.AlertID + ".xml"})
	}
	return f
}
