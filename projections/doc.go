// Package projections is the read side: a projector runtime that follows the event
// log and keeps read models in Redis, exactly once and live, and can rebuild any of
// them without downtime. Each read model (incidentboard, resourceboard, prefecture,
// timeline) is a Projection in its own package, with the queries that read it.
//
// Exactly once: a batch's read-model writes and its checkpoint are one MULTI/EXEC, so
// a crash at any point neither skips nor repeats an event. One writer: a lease in
// Redis with a fencing token, checked under WATCH in the same transaction, so a stale
// holder's writes are refused. Keys of one projection share a hash tag ({name}), so
// the transaction also holds on Redis Cluster.
package projections
