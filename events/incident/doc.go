// Package incident is the contract of an incident's stream: its event types, the
// enums they carry with their stored spellings, and the one pure rule every reader
// shares with the writer, the status after an event (StatusAfter). The write side's
// aggregate (services/incidents/incident) decides the events; the boards, the
// timeline, the replay and the drill read them from here, without the write side.
//
// It depends on the standard library and the core package events only.
package incident
