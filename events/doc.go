// Package events holds Vigie's event contracts: the envelope every event travels in
// (the metadata keys of the public contract), the explicit registry of event types
// with their schema versions, and the codec that upcasts old versions on read.
//
// Sub-packages: store (the only way Vigie talks to an event store, over the official
// EventStoreDB client), embedded (a single-node server speaking the EventStoreDB gRPC
// protocol on a durable local log) and storetest (the contract suite both must pass).
package events
