package events

// Actor is who gives a command: a subject (an opaque user id, never a name, phone
// or e-mail) acting in a role. Domain code uses it for rules such as the two-person
// approval or the prefecture's direction of an escalated incident.
type Actor struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
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
