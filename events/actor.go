package events

// Actor is who gives a command: a subject (an opaque user id, never a phone or
// e-mail) acting in a role. Domain code uses it for rules such as the two-person
// approval or the prefecture's direction of an escalated incident, always by
// Subject; Name is for people to read only.
type Actor struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	// Name is the display name the caller's token gives (« Marie Durand »), empty
	// when it gives none. It is a staff member's own name, from their identity
	// provider: see Metadata.ActorName for why it may be recorded.
	Name string `json:"name,omitempty"`
}

// The roles of the crisis cell and the prefecture (described in policies/policy.csv).
const (
	RoleMayor      = "mayor"
	RoleRAC        = "rac"
	RoleOperator   = "operator"
	RoleField      = "field"
	RoleObserver   = "observer"
	RolePrefecture = "prefecture"
	RoleAdmin      = "admin"
)

// Roles lists every role, for validation and exhaustive tests.
var Roles = []string{RoleMayor, RoleRAC, RoleOperator, RoleField, RoleObserver, RolePrefecture, RoleAdmin}
