// Package identity is the identity token a Vigie service trusts: an EdDSA JWT
// naming the caller (and, for development tokens, the role grants it carries),
// signed with an Ed25519 key kept in the data directory. The gateway forwards
// it in gRPC metadata; each service verifies it with a server interceptor and
// authorizes the command itself (package policies), so a call that reaches a
// service past the gateway is still refused.
package identity
