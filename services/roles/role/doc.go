// Package role is the domain of role assignments: who holds which role on one
// authorization domain, kept as events in the stream role-<domain> (their
// contract is vigie/events/role) and decided by the rules of the crisis organisation (only an
// admin grants or revokes, nobody grants a role to themselves, an admin cannot
// remove their own admin grant, a mayor's or a prefecture's grant takes two
// people: requested, then confirmed by someone else). Pure: standard library and
// vigie/events only; the time of a decision is passed in.
package role
