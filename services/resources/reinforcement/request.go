package reinforcement

import (
	"vigie/events"
	"vigie/services/resources/resource"
)

// Status is where a request stands. The values are read models' and
// GraphQL's vocabulary: never rename one.
type Status string

const (
	StatusRequested         Status = "requested"
	StatusAccepted          Status = "accepted"
	StatusPartiallyAccepted Status = "partially_accepted"
	StatusRefused           Status = "refused" // final
	StatusDispatched        Status = "dispatched"
	StatusArrived           Status = "arrived"
	StatusReleased          Status = "released" // final
)

// Statuses returns every status in the order of the path.
func Statuses() []Status {
	return []Status{StatusRequested, StatusAccepted, StatusPartiallyAccepted, StatusRefused, StatusDispatched, StatusArrived, StatusReleased}
}

// Request is the state of one reinforcement request, rebuilt from its stream
// with Apply. The zero value is a request not made yet, ready for Submit.
type Request struct {
	id         string
	domain     string
	incidentID string
	kind       resource.Kind
	quantity   int
	accepted   int
	status     Status
}

func (r *Request) ID() string          { return r.id }
func (r *Request) Domain() string      { return r.domain }
func (r *Request) IncidentID() string  { return r.incidentID }
func (r *Request) Kind() resource.Kind { return r.kind }

// Quantity is the quantity requested.
func (r *Request) Quantity() int { return r.quantity }

// AcceptedQuantity is what the prefecture accepted to send; 0 until it accepts.
func (r *Request) AcceptedQuantity() int { return r.accepted }

// Status is "" until the request is made.
func (r *Request) Status() Status { return r.status }

// Exists reports whether the request has been made.
func (r *Request) Exists() bool { return r.status != "" }

// Apply folds one event of the request's stream into the state. It trusts the
// event (the log is the truth, commands are the gate) and ignores types that
// are not the request's.
func (r *Request) Apply(e events.Event) {
	switch e := e.(type) {
	case ReinforcementRequested:
		*r = Request{
			id:         e.RequestID,
			domain:     e.Domain,
			incidentID: e.IncidentID,
			kind:       e.Kind,
			quantity:   e.Quantity,
			status:     StatusRequested,
		}
	case ReinforcementAccepted:
		r.accepted = e.Quantity
		r.status = StatusAccepted
		if e.Quantity < r.quantity {
			r.status = StatusPartiallyAccepted
		}
	case ReinforcementRefused:
		r.status = StatusRefused
	case ReinforcementDispatched:
		r.status = StatusDispatched
	case ReinforcementArrived:
		r.status = StatusArrived
	case ReinforcementReleased:
		r.status = StatusReleased
	}
}
