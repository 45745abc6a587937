// Package reinforcement is the write-side domain of a commune's request to the
// prefecture for means it lacks (stream reinforcement-<id>): requested, then
// accepted in full or in part or refused by the prefecture, dispatched,
// arrived, released.
//
// It is pure like package resource: Apply rebuilds the state, commands return
// events without changing it, time comes in as an argument. Errors wrapping
// ErrInvalidInput are bad input, ErrNotFound is a missing request, every other
// error is a rule refusing the command.
package reinforcement
