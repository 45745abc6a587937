package dispatch

import (
	"slices"
	"strings"
	"sync"

	"vigie/services/alerts/alert"
	"vigie/services/alerts/resident"
)

// Directory is the dispatcher's view of the registered residents: their
// contact details, opened with their keys, in memory only. It is built from the
// log (resident-… and residentkey-… streams) and forgets a resident on erasure;
// a resident whose key was shredded before the dispatcher started never
// appears (the key stream is gone from the log).
type Directory struct {
	mu       sync.RWMutex
	keys     map[string][]byte                // resident id → key, until the registration arrives
	byDomain map[string]map[string]*Recipient // domain → resident id → recipient
	domainOf map[string]string
}

// Recipient is one resident as the dispatcher may contact them.
type Recipient struct {
	ID       string
	hash     uint32 // of the id, for Bucket
	Channels []string
	Language string
	Contact  resident.Contact
}

func NewDirectory() *Directory {
	return &Directory{keys: map[string][]byte{}, byDomain: map[string]map[string]*Recipient{}, domainOf: map[string]string{}}
}

// key remembers a resident's key, which the log holds just before the registration.
func (d *Directory) key(k resident.ResidentKeyIssued) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys[k.ResidentID] = k.Key
}

// register opens the registration's sealed contact; without a key (shredded)
// the resident stays out of the directory.
func (d *Directory) register(r resident.ResidentRegistered) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key, ok := d.keys[r.ResidentID]
	if !ok {
		return
	}
	c, err := resident.Open(key, r.ResidentID, r.Sealed)
	if err != nil {
		return
	}
	delete(d.keys, r.ResidentID) // the recipient holds what the key opened
	if d.byDomain[r.Domain] == nil {
		d.byDomain[r.Domain] = map[string]*Recipient{}
	}
	d.byDomain[r.Domain][r.ResidentID] = &Recipient{ID: r.ResidentID, hash: hashID(r.ResidentID), Channels: slices.Clone(r.Channels), Language: r.Language, Contact: c}
	d.domainOf[r.ResidentID] = r.Domain
}

func (d *Directory) erase(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.keys, id)
	if dom, ok := d.domainOf[id]; ok {
		delete(d.byDomain[dom], id)
		delete(d.domainOf, id)
	}
}

// Targets returns the residents of domain inside the polygon (the whole commune
// when it is empty) who chose channel, in bucket b of n, sorted by id.
func (d *Directory) Targets(domain string, polygon []alert.Point, channel string, b, n int) []*Recipient {
	var out []*Recipient
	d.each(domain, polygon, channel, b, n, func(r *Recipient) { out = append(out, r) })
	slices.SortFunc(out, func(x, y *Recipient) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// Count is len(Targets) over every bucket, without building or sorting the list.
func (d *Directory) Count(domain string, polygon []alert.Point, channel string) int {
	n := 0
	d.each(domain, polygon, channel, 0, 1, func(*Recipient) { n++ })
	return n
}

// each calls fn for every resident Targets selects, in no order.
func (d *Directory) each(domain string, polygon []alert.Point, channel string, b, n int, fn func(*Recipient)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.byDomain[domain] {
		if n > 1 && int(r.hash%uint32(n)) != b {
			continue
		}
		if !slices.Contains(r.Channels, channel) {
			continue
		}
		if !alert.Covers(polygon, alert.Point{Lat: r.Contact.Location.Lat, Lon: r.Contact.Location.Lon}) {
			continue
		}
		fn(r)
	}
}

// Still reports whether the resident is still registered (not erased).
func (d *Directory) Still(id string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.domainOf[id]
	return ok
}
