// Package territory is the grammar of Vigie's authorization domains: paths
// naming a département ("dep:30") or one of its communes ("dep:30/com:30189"),
// and the one rule of which domain a grant covers. It is pure (standard library
// only) so that domain packages, the authorizer and the identity token all
// agree on it.
package territory
