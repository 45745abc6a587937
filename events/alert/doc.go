// Package alert is the contract of an alert's stream (alert-<id>) and of its
// dispatch journal (dispatch-<id>): their event types, the enums they carry with
// their stored spellings (CAP's and the contract's), and the pure rules every
// reader shares with the writer: where an alert stands after an event (Progress:
// its status and each channel's state), and which version of its content is
// published and which waits for approval (Versions). The write side's aggregate
// (services/alerts/alert) decides the events, and the services render CAP,
// validate content and dispatch; the boards, the timeline, the replay and the drill
// read the events from here, without the write side.
//
// It depends on the standard library and the core package events only.
package alert
