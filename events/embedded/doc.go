// Package embedded is Vigie's embedded event store: a single-node server that speaks
// the EventStoreDB gRPC protocol over a durable local log, so the official clients
// (Go and others) work against it unchanged and `vigie serve` needs nothing installed.
//
// It is the one-machine default only: it is not a cluster and never claims to be one
// (no gossip, no leader election). The log is kept in Pebble; an append is acknowledged
// only once its batch is fsync'd, and concurrent appends share one fsync (group commit).
package embedded
