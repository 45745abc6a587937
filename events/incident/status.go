package incident

import "vigie/events"

// StatusAfter is an incident's status after e, from its status before (cur: empty
// before the report) and whether it was ever qualified before e; changed is false
// for an event that does not move the status (a log entry). The aggregate, the
// commune's board and the prefecture's overview all evolve the status with it.
//
// Reopening is an event, not a status: a reopened incident is qualified again if it
// ever was, else reported. Only the first qualification moves the status.
func StatusAfter(cur Status, qualified bool, e events.Event) (next Status, changed bool) {
	switch e.(type) {
	case IncidentReported:
		return StatusReported, true
	case IncidentQualified:
		if cur == StatusReported {
			return StatusQualified, true
		}
	case IncidentEscalated:
		return StatusEscalated, true
	case IncidentStabilized:
		return StatusStabilized, true
	case IncidentClosed:
		return StatusClosed, true
	case IncidentReopened:
		if qualified {
			return StatusQualified, true
		}
		return StatusReported, true
	}
	return cur, false
}
