// Package store is the only way Vigie talks to an event store: a thin wrapper over the
// official EventStoreDB client (EventStore-Client-Go v4) that speaks Vigie's terms —
// expected revisions, recorded events, $all positions, conflicts as ErrConflict — and
// keeps a long-lived process alive across event-store restarts.
//
// The same client serves a real EventStoreDB/KurrentDB and Vigie's embedded server;
// package storetest holds the contract both must pass.
package store
