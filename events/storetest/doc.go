// Package storetest is the contract every event-store backend must pass, run through
// store.Client: the embedded server always, a real EventStoreDB when EVENTSTORE_URL is
// set (e.g. EVENTSTORE_URL='esdb://localhost:2113?tls=false' go test ./storetest).
// Backends may be shared and persistent, so every test writes streams of its own and
// filters $all to them.
package storetest
