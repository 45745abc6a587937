package resource

import "vigie/events"

// StatusAfter is a resource's status after e and the incident it is then engaged on,
// from its status and incident before (cur and incidentID: empty before the
// registration); changed is false for an event that moves neither (an occupancy
// change, a status set to the one it has). The aggregate and the resource board both
// evolve a resource's status with it.
//
// A registration and a release make the resource available and engaged on nothing;
// an engagement puts it on the event's incident; a status change sets the status,
// and a resource that is not engaged is on no incident.
func StatusAfter(cur Status, incidentID string, e events.Event) (next Status, engagedOn string, changed bool) {
	switch e := e.(type) {
	case ResourceRegistered:
		return StatusAvailable, "", true
	case ResourceEngaged:
		return StatusEngaged, e.IncidentID, true
	case ResourceReleased:
		return StatusAvailable, "", true
	case ResourceStatusChanged:
		if e.Status == cur {
			break
		}
		if e.Status != StatusEngaged {
			incidentID = ""
		}
		return e.Status, incidentID, true
	}
	return cur, incidentID, false
}
