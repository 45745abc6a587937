// Package reinforcement is the contract of a reinforcement request's stream
// (reinforcement-<id>): its category, its event types, the statuses of a request
// with their stored spellings, and the one pure rule every reader shares with the
// writer, a request's status after an event (StatusAfter). The write side's
// aggregate (services/resources/reinforcement) decides the events; the prefecture's
// overview, the timeline and the drill read them from here, without the write side.
//
// It depends on the standard library, the core package events and the resource's
// contract (vigie/events/resource, for the kind of means requested) only.
package reinforcement
