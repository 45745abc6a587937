package role

import contract "vigie/events/role"

// The role grants' events are their contract, in vigie/events/role, which the
// readers (the timeline) import without the write side. These names let the
// assignments, the authorizer and the services read as the domain they are.
type (
	RoleGranted        = contract.RoleGranted
	RoleRevoked        = contract.RoleRevoked
	RoleGrantRequested = contract.RoleGrantRequested
	RoleGrantConfirmed = contract.RoleGrantConfirmed
)

var (
	DomainOf = contract.DomainOf
	Register = contract.Register
)
