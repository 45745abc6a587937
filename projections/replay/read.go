package replay

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events/incident"
	"vigie/events/store"
	"vigie/projections/alertboard"
	"vigie/projections/incidentboard"
	"vigie/projections/resourceboard"
)

// Boards are the contents of a domain's boards: the live ones (Read of space "") or
// a replay's (Replayer.Boards).
type Boards struct {
	At       time.Time      `json:"at"`
	Domain   string         `json:"domain"`
	Position store.Position `json:"position"` // the last event of the log replayed
	Events   int            `json:"events"`   // events of the log replayed
	// Incidents in every status (closed ones too), most severe then most recent
	// first within each status as the board orders them; each with its main
	// courante and the resources engaged on it.
	Incidents []Incident `json:"incidents"`
	// Resources of the domain, in name order.
	Resources []resourceboard.Resource `json:"resources"`
	// Alerts of the domain, the most recent first.
	Alerts []alertboard.Alert `json:"alerts"`
}

// Incident is the board's incident with its main courante and engaged resources.
type Incident struct {
	incidentboard.Incident
	Log     []incidentboard.Entry    `json:"log"`
	Engaged []resourceboard.Resource `json:"engaged"`
}

// section reads one board into Boards with that board's own queries (its Reader),
// from a key space: replays and live boards alike.
type section struct {
	board string // the read model's name: the projection a replay must run for it
	read  func(ctx context.Context, rdb redis.Cmdable, space, domain string, b *Boards) error
}

// sections are the boards of a replay. Adding a board is one line here (its
// projection must be in boards.All()), with a field in Boards for what it reads.
var sections = []section{
	{incidentboard.Name, readIncidents},
	{resourceboard.Name, readResources},
	{alertboard.Name, func(ctx context.Context, rdb redis.Cmdable, space, d string, b *Boards) (err error) {
		b.Alerts, err = alertboard.Reader{Redis: rdb, Space: space}.List(ctx, d, nil)
		b.Alerts = append([]alertboard.Alert{}, b.Alerts...)
		return err
	}},
}

// Read reads a domain's boards from a key space ("" for the live boards, a replay's
// Result.Space otherwise).
func Read(ctx context.Context, rdb redis.Cmdable, space, domain string) (*Boards, error) {
	b := &Boards{Domain: domain, Incidents: []Incident{}, Resources: []resourceboard.Resource{}, Alerts: []alertboard.Alert{}}
	for _, s := range sections {
		if err := s.read(ctx, rdb, space, domain, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// page is what each listing asks for at once; listings go on until a short page.
const page = 500

func readIncidents(ctx context.Context, rdb redis.Cmdable, space, domain string, b *Boards) error {
	ib, rb := incidentboard.Reader{Redis: rdb, Space: space}, resourceboard.Reader{Redis: rdb, Space: space}
	var statuses []string
	for _, s := range incident.Statuses() {
		statuses = append(statuses, string(s))
	}
	for off := int64(0); ; off += page {
		docs, err := ib.List(ctx, domain, statuses, incidentboard.Page{Offset: off, Limit: page})
		if err != nil {
			return err
		}
		for _, d := range docs {
			inc := Incident{Incident: d, Log: []incidentboard.Entry{}}
			for loff := int64(0); ; loff += page {
				entries, err := ib.Log(ctx, d.ID, incidentboard.Page{Offset: loff, Limit: page})
				if err != nil {
					return err
				}
				inc.Log = append(inc.Log, entries...)
				if len(entries) < page {
					break
				}
			}
			if inc.Engaged, err = rb.EngagedOn(ctx, d.ID, resourceboard.Page{}); err != nil {
				return err
			}
			b.Incidents = append(b.Incidents, inc)
		}
		if len(docs) < page {
			return nil
		}
	}
}

func readResources(ctx context.Context, rdb redis.Cmdable, space, domain string, b *Boards) error {
	rb := resourceboard.Reader{Redis: rdb, Space: space}
	for off := int64(0); ; off += page {
		docs, err := rb.List(ctx, domain, "", "", resourceboard.Page{Offset: off, Limit: page})
		if err != nil {
			return err
		}
		b.Resources = append(b.Resources, docs...)
		if len(docs) < page {
			return nil
		}
	}
}
