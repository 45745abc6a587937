package resource

import (
	"vigie/events"
	contract "vigie/events/resource"
)

// Resource is the state of one resource, rebuilt from its stream with Apply.
// The zero value is a resource that does not exist yet, ready for Register.
type Resource struct {
	id         string
	domain     string
	kind       Kind
	name       string
	capacity   int
	status     Status
	incidentID string
	occupancy  int
}

func (r *Resource) ID() string     { return r.id }
func (r *Resource) Domain() string { return r.domain }
func (r *Resource) Kind() Kind     { return r.kind }
func (r *Resource) Name() string   { return r.name }

// Capacity is a shelter's capacity; 0 for other kinds.
func (r *Resource) Capacity() int { return r.capacity }

// Status is "" until the resource is registered.
func (r *Resource) Status() Status { return r.status }

// IncidentID is the incident the resource is engaged on, "" when not engaged.
func (r *Resource) IncidentID() string { return r.incidentID }

// Occupancy is the number of people in a shelter; 0 for other kinds.
func (r *Resource) Occupancy() int { return r.occupancy }

// Exists reports whether the resource has been registered.
func (r *Resource) Exists() bool { return r.status != "" }

// Apply folds one event of the resource's stream into the state. It trusts
// the event (the log is the truth, commands are the gate) and ignores types
// that are not the resource's. The status and the incident it is engaged on are
// the contract's StatusAfter, which the resource board follows too.
func (r *Resource) Apply(e events.Event) {
	status, incidentID, _ := contract.StatusAfter(r.status, r.incidentID, e)
	switch e := e.(type) {
	case ResourceRegistered:
		*r = Resource{
			id:       e.ResourceID,
			domain:   e.Domain,
			kind:     e.Kind,
			name:     e.Name,
			capacity: e.Capacity,
		}
	case ShelterOccupancyChanged:
		r.occupancy = e.Occupancy
	}
	r.status, r.incidentID = status, incidentID
}
