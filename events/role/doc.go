// Package role is the contract of the role streams (role-<domain>): the events of
// the role grants on one authorization domain, the vocabulary they use (which roles
// exist, on which kind of domain each is held, what a subject may be, which grants
// take two people) and EffectOf, what each event does to who holds what — the one
// rule the write side (services/roles/role, which decides grants and revocations by
// the rules of the crisis organisation) and the authorizer (policies) both follow.
// The role names are the core's (events.Roles: events.RoleMayor and the others).
//
// It depends on the standard library and the core module's packages only.
package role
