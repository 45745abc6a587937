// Package resource is the write-side domain of one resource (stream
// resource-<id>): a team, vehicle, piece of equipment, drone, shelter or camera
// that a commune registers, engages on one incident at a time and releases.
//
// It is pure: state is rebuilt with Apply, commands return the events they
// decide without changing the state, and time comes in as an argument. Errors
// wrapping ErrInvalidInput are bad input, ErrNotFound is a missing resource,
// every other error is a business rule refusing the command.
package resource
