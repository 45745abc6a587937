// Package incident is the incident aggregate of the incidents service: its
// lifecycle, its main courante and who directs it. It is pure: commands decide
// events from the state and the time they are given, Apply evolves the state,
// nothing here does I/O or reads a clock.
//
// Choices the write-side issue leaves open:
//
//   - Direction. The mayor (the commune) directs an incident until it is
//     escalated; from then on only a prefecture actor may qualify, stabilize,
//     close or reopen it, and a prefecture actor may do none of these before.
//     Direction never returns to the commune: there is no de-escalation event,
//     so it survives closing and reopening. Anyone may add log entries. Beyond
//     these rules and the escalation one (mayor or prefecture only), what each
//     role may do is the policies' business, not this package's.
//   - Qualification may be repeated while the incident is open (the situation
//     changes, a kind was wrong). Only the first one moves the status, from
//     reported to qualified; later ones leave it as it is. A qualification that
//     gives no location or no zone keeps the incident's current ones, and the
//     event always carries the complete result, so a reader needs no history
//     to know where the incident is. A zone, once drawn, can be redrawn but
//     not removed.
//   - Escalation needs a qualified incident and may happen from qualified or
//     stabilized (a stabilized situation can flare up again).
//   - Closing is allowed from any open status (a false alarm closes from
//     reported). Reopening returns to qualified if the incident was ever
//     qualified, else to reported, and keeps the whole log.
//   - The main courante holds the LogEntryAdded entries only; lifecycle events
//     are in the stream, and a read model may interleave them. A correction
//     may reference any existing entry, a correction included, and an entry
//     may be corrected more than once.
//   - Texts are trimmed of surrounding white space before their length is
//     checked, lengths count characters (runes), and texts must be valid UTF-8
//     without control characters (multi-line texts may hold newlines and tabs).
//   - The domain of an incident is a commune: "dep:<département>/com:<INSEE
//     code>", the INSEE code starting with the département's code.
package incident
