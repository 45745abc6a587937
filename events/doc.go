// Package events holds Vigie's event contracts: the envelope every event travels in
// (the metadata keys of the public contract), the explicit registry of event types
// with their schema versions, and the codec that upcasts old versions on read.
//
// It is the dependency-free core: it imports the standard library alone, and its
// module (vigie/events, with events/input and the event contracts such as
// events/incident) requires nothing, so a pure domain package depends on no module
// outside the repository. The machinery lives in modules of its own, at the same
// import paths: store (the only way Vigie talks to an event store, over the official
// EventStoreDB client), embedded (a single-node server speaking the EventStoreDB gRPC
// protocol on a durable local log), storetest (the contract suite both must pass) and
// command (load, decide, append; it also writes and reads the trace context of events).
package events
