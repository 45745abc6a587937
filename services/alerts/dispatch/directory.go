package dispatch

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"vigie/services/alerts/alert"
	"vigie/services/alerts/resident"
)

// Directory is the dispatcher's view of the registered residents: their
// contact details, opened with their keys, in memory only. It is built from the
// log (resident-… and residentkey-… streams, the keys unwrapped by the
// dispatcher's KEK) and forgets a resident on erasure; a resident whose key was
// shredded before the dispatcher started never appears (the key stream is gone
// from the log).
type Directory struct {
	mu   sync.RWMutex
	keys map[string][]byte // resident id → key (unwrapped), until the registration arrives
	// waiting are registrations read before their key: once a rotation has
	// moved a key to a later generation's stream, the log holds the key after
	// the registration.
	waiting  map[string]waiting
	byDomain map[string]map[string]*Recipient // domain → resident id → recipient
	domainOf map[string]string
	// caught: the dispatcher has read the log up to its start once. Before,
	// the directory is incomplete and counts nobody rather than too few.
	caught atomic.Bool
}

// Recipient is one resident as the dispatcher may contact them.
type Recipient struct {
	ID       string
	hash     uint32 // of the id, for Bucket
	Channels []string
	Language string
	// Exercises: the resident agreed to receive exercises; no exercise reaches
	// anyone else.
	Exercises bool
	// Position is the commit position of the resident's registration in the
	// log. A message goes to the residents registered before its dispatch
	// started, so that what was sent, and therefore who must hear of a
	// cancellation, is the same whenever and however often it is computed.
	Position uint64
	Contact  resident.Contact
}

// Selection says which residents a message reaches.
type Selection struct {
	Domain  string
	Polygon []alert.Point // empty: the whole commune
	Channel string
	// Exercise: the message is an exercise, for those who agreed only.
	Exercise bool
	// Before: only residents registered at a commit position below it; 0 for
	// every resident now in the directory.
	Before uint64
}

// waiting is a registration whose key has not been read yet.
type waiting struct {
	reg      resident.ResidentRegistered
	position uint64
}

func NewDirectory() *Directory {
	return &Directory{keys: map[string][]byte{}, waiting: map[string]waiting{}, byDomain: map[string]map[string]*Recipient{}, domainOf: map[string]string{}}
}

// key remembers a resident's key (unwrapped by the dispatcher), which the log
// holds before the registration, or after it once a rotation re-wrapped it:
// then it opens the registration waiting for it. The key of a resident already
// in the directory (a rotation while the dispatcher runs) changes nothing.
func (d *Directory) key(residentID string, key []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.domainOf[residentID]; ok {
		return
	}
	if w, ok := d.waiting[residentID]; ok {
		if d.open(w.reg, w.position, key) {
			delete(d.waiting, residentID)
		}
		return
	}
	d.keys[residentID] = key
}

// register opens the registration's sealed contact with the resident's key,
// or keeps it until the key is read; a resident whose key was shredded stays
// out of the directory. position is the registration's commit position in the
// log: what Selection.Before compares, wherever the key is.
func (d *Directory) register(r resident.ResidentRegistered, position uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key, ok := d.keys[r.ResidentID]
	if !ok || !d.open(r, position, key) {
		d.waiting[r.ResidentID] = waiting{reg: r, position: position}
	}
}

// open adds the resident with the contact key opens; false if it does not.
// d.mu is held.
func (d *Directory) open(r resident.ResidentRegistered, position uint64, key []byte) bool {
	c, err := resident.Open(key, r.ResidentID, r.Sealed)
	delete(d.keys, r.ResidentID) // the recipient holds what the key opened
	if err != nil {
		return false
	}
	if d.byDomain[r.Domain] == nil {
		d.byDomain[r.Domain] = map[string]*Recipient{}
	}
	d.byDomain[r.Domain][r.ResidentID] = &Recipient{ID: r.ResidentID, hash: hashID(r.ResidentID), Channels: slices.Clone(r.Channels),
		Language: r.Language, Exercises: r.Exercises, Position: position, Contact: c}
	d.domainOf[r.ResidentID] = r.Domain
	return true
}

func (d *Directory) erase(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.keys, id)
	delete(d.waiting, id)
	if dom, ok := d.domainOf[id]; ok {
		delete(d.byDomain[dom], id)
		delete(d.domainOf, id)
	}
}

// Targets returns the residents s selects in bucket b of n, sorted by id.
func (d *Directory) Targets(s Selection, b, n int) []*Recipient {
	var out []*Recipient
	d.each(s, b, n, func(r *Recipient) { out = append(out, r) })
	slices.SortFunc(out, func(x, y *Recipient) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// Count is len(Targets) over every bucket, without building or sorting the list.
func (d *Directory) Count(s Selection) int {
	n := 0
	d.each(s, 0, 1, func(*Recipient) { n++ })
	return n
}

// personal are the channels that reach residents one by one, and so can be
// counted; the others reach an area (FR_ALERT), a partner (WEBHOOK) or the
// public (CAP_FEED).
var personal = []alert.Channel{alert.ChannelSMS, alert.ChannelVoice, alert.ChannelEmail, alert.ChannelPush}

// Audience counts, per channel, the residents an alert of domain over polygon
// on channels reaches now (those who agreed to exercises, for an exercise):
// what the mayor is shown before approving. Channels that are not sent to
// residents one by one are absent, and so is every channel until the
// dispatcher has read the log once: an unknown count, never a false one.
func (d *Directory) Audience(domain string, polygon []alert.Point, channels []alert.Channel, exercise bool) map[alert.Channel]int {
	if !d.caught.Load() {
		return nil
	}
	out := map[alert.Channel]int{}
	for _, c := range channels {
		if slices.Contains(personal, c) {
			out[c] = d.Count(Selection{Domain: domain, Polygon: polygon, Channel: string(c), Exercise: exercise})
		}
	}
	return out
}

// each calls fn for every resident Targets selects, in no order.
func (d *Directory) each(s Selection, b, n int, fn func(*Recipient)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.byDomain[s.Domain] {
		if n > 1 && r.Bucket(n) != b {
			continue
		}
		if s.Before != 0 && r.Position >= s.Before {
			continue
		}
		if s.Exercise && !r.Exercises {
			continue
		}
		if !slices.Contains(r.Channels, s.Channel) {
			continue
		}
		if !alert.Covers(s.Polygon, alert.Point{Lat: r.Contact.Location.Lat, Lon: r.Contact.Location.Lon}) {
			continue
		}
		fn(r)
	}
}

// Bucket is the resident's bucket among n, as Bucket(r.ID, n).
func (r *Recipient) Bucket(n int) int { return int(r.hash % uint32(n)) }

// Still reports whether the resident is still registered (not erased).
func (d *Directory) Still(id string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.domainOf[id]
	return ok
}
