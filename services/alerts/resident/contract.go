package resident

import contract "vigie/events/resident"

// A resident's events and the names of their streams are their contract, in
// vigie/events/resident, which the readers (the timeline) import without the write
// side; the sealing and the keys' wrapping are this package's. These names let the
// aggregate and its commands read as the domain they are.
type (
	ResidentRegistered = contract.ResidentRegistered
	ResidentErased     = contract.ResidentErased
	ResidentKeyIssued  = contract.ResidentKeyIssued
	ResidentKeyWrapped = contract.ResidentKeyWrapped
)

// KeyCategory is the stream category of residents' keys. No projection
// subscribes to it.
const KeyCategory = contract.KeyCategory

var (
	StreamID    = contract.StreamID
	KeyStreamID = contract.KeyStreamID
	Register    = contract.Register
)
