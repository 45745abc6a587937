// Package resident is the contract of a resident's stream (resident-<id>) and of
// their key's (residentkey-<id>): the event types and the streams' names. Nothing
// personal is in clear in them: the contact details are sealed with the resident's
// own key. The write side (services/alerts/resident) registers and erases residents,
// seals their details and wraps their keys; the timeline reads the events from here,
// without the write side.
//
// It depends on the standard library and the core package events only.
package resident
