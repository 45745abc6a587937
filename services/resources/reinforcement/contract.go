package reinforcement

import contract "vigie/events/reinforcement"

// A request's events and statuses are its contract, in vigie/events/reinforcement,
// which the readers (the prefecture's overview, the timeline, the drill) import
// without the write side. These names let the aggregate and its commands read as
// the domain they are.
type (
	ReinforcementRequested  = contract.ReinforcementRequested
	ReinforcementAccepted   = contract.ReinforcementAccepted
	ReinforcementRefused    = contract.ReinforcementRefused
	ReinforcementDispatched = contract.ReinforcementDispatched
	ReinforcementArrived    = contract.ReinforcementArrived
	ReinforcementReleased   = contract.ReinforcementReleased

	Status = contract.Status
)

// Category is the stream category of reinforcement requests:
// events.StreamID(Category, requestID) is reinforcement-<id>.
const Category = contract.Category

const (
	StatusRequested         = contract.StatusRequested
	StatusAccepted          = contract.StatusAccepted
	StatusPartiallyAccepted = contract.StatusPartiallyAccepted
	StatusRefused           = contract.StatusRefused
	StatusDispatched        = contract.StatusDispatched
	StatusArrived           = contract.StatusArrived
	StatusReleased          = contract.StatusReleased
)

var (
	Statuses = contract.Statuses
	Register = contract.Register
)
