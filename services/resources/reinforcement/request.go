package reinforcement

import (
	"vigie/events"
	contract "vigie/events/reinforcement"
	"vigie/services/resources/resource"
)

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
// are not the request's. The status is the contract's StatusAfter, which the
// prefecture's overview follows too.
func (r *Request) Apply(e events.Event) {
	status, _ := contract.StatusAfter(r.status, r.quantity, e)
	switch e := e.(type) {
	case ReinforcementRequested:
		*r = Request{
			id:         e.RequestID,
			domain:     e.Domain,
			incidentID: e.IncidentID,
			kind:       e.Kind,
			quantity:   e.Quantity,
		}
	case ReinforcementAccepted:
		r.accepted = e.Quantity
	}
	r.status = status
}
