package role

import (
	"time"

	"vigie/events"
)

// RoleGranted records that Subject now holds Role on Domain, granted by the
// admin whose subject is By.
type RoleGranted struct {
	Subject string    `json:"subject"`
	Role    string    `json:"role"`
	Domain  string    `json:"domain"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// RoleRevoked records that Subject no longer holds Role on Domain.
type RoleRevoked struct {
	Subject string    `json:"subject"`
	Role    string    `json:"role"`
	Domain  string    `json:"domain"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

func (RoleGranted) EventType() string { return "RoleGranted" }
func (RoleRevoked) EventType() string { return "RoleRevoked" }

// Register adds the role events to r at their current schema versions.
func Register(r *events.Registry) error {
	if err := events.Register[RoleGranted](r, 1); err != nil {
		return err
	}
	return events.Register[RoleRevoked](r, 1)
}
