// Package resource is the contract of a resource's stream (resource-<id>): its event
// types, the enums they carry with their stored spellings (Kind, Status), and the one
// pure rule every reader shares with the writer, a resource's status and engagement
// after an event (StatusAfter). The write side's aggregate
// (services/resources/resource) decides the events; the boards, the timeline, the
// replay and the drill read them from here, without the write side.
//
// It depends on the standard library and the core package events only.
package resource
