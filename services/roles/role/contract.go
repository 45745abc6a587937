package role

import contract "vigie/events/role"

// The role grants' events are their contract, in vigie/events/role, which the
// readers (the authorizer, the timeline) import without the write side; so is the
// vocabulary (which roles exist, where each is held, what a subject may be). These
// names let the assignments and the Roles API read as the domain they are.
type (
	RoleGranted        = contract.RoleGranted
	RoleRevoked        = contract.RoleRevoked
	RoleGrantRequested = contract.RoleGrantRequested
	RoleGrantConfirmed = contract.RoleGrantConfirmed
)

var (
	DomainOf = contract.DomainOf
	Register = contract.Register
	StreamID = contract.StreamID
)

// The vocabulary's refusals, which the decisions return as they are.
var (
	ErrUnknownRole      = contract.ErrUnknownRole
	ErrInvalidDomain    = contract.ErrInvalidDomain
	ErrRoleNotForDomain = contract.ErrRoleNotForDomain
	ErrInvalidSubject   = contract.ErrInvalidSubject
)
