package reinforcement

import "vigie/events"

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

// StatusAfter is a request's status after e, from its status before (cur: empty
// before the request) and the quantity requested (an acceptance of less is a partial
// one; the request itself carries its quantity); changed is false for an event that
// is not a request's. The aggregate and the prefecture's overview both evolve a
// request's status with it.
func StatusAfter(cur Status, requested int, e events.Event) (next Status, changed bool) {
	switch e := e.(type) {
	case ReinforcementRequested:
		return StatusRequested, true
	case ReinforcementAccepted:
		if e.Quantity < requested {
			return StatusPartiallyAccepted, true
		}
		return StatusAccepted, true
	case ReinforcementRefused:
		return StatusRefused, true
	case ReinforcementDispatched:
		return StatusDispatched, true
	case ReinforcementArrived:
		return StatusArrived, true
	case ReinforcementReleased:
		return StatusReleased, true
	}
	return cur, false
}
