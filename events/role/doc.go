// Package role is the contract of the role streams (role-<domain>): the events of
// the role grants on one authorization domain. The role names they carry are the
// core's (events.Roles: events.RoleMayor and the others). The write side
// (policies/role) decides grants and revocations by the rules of the crisis organisation; the
// authorizer and the timeline read the events from here.
//
// It depends on the standard library and the core package events only.
package role
