package policies

// Objects: what a command or a query acts on. The gateway and the services
// name permissions with these constants and nothing else, so a typo is a
// compile error rather than a silent refusal.
const (
	ObjectIncident      = "incident"
	ObjectResource      = "resource"
	ObjectReinforcement = "reinforcement"
	ObjectAlert         = "alert"
	ObjectResident      = "resident"
	ObjectRole          = "role"
	ObjectTimeline      = "timeline"
	// ObjectJournal is the security journal (policies/journal): the RSSI's view of
	// authentication failures, refusals, grants, exports, backups.
	ObjectJournal = "journal"
)

// Actions, shared between objects where the word means the same thing.
const (
	ActionRead = "read"

	// incident
	ActionReport    = "report"
	ActionQualify   = "qualify"
	ActionLog       = "log" // an entry in the main courante
	ActionEscalate  = "escalate"
	ActionStabilize = "stabilize"
	ActionClose     = "close"
	ActionReopen    = "reopen"

	// resource (and reinforcement: release)
	ActionRegister     = "register" // also resident
	ActionEngage       = "engage"
	ActionRelease      = "release"
	ActionSetStatus    = "set_status"
	ActionSetOccupancy = "set_occupancy"

	// reinforcement
	ActionRequest  = "request"
	ActionDecide   = "decide"
	ActionDispatch = "dispatch"
	ActionArrive   = "arrive"

	// alert
	ActionDraft           = "draft"
	ActionSubmit          = "submit"
	ActionApprove         = "approve"
	ActionReject          = "reject"
	ActionCancel          = "cancel"
	ActionValidateFRAlert = "validate_fr_alert"
	ActionRefuseFRAlert   = "refuse_fr_alert"

	// resident
	ActionErase = "erase"

	// role
	ActionGrant  = "grant"
	ActionRevoke = "revoke"
	// ActionConfirm is the second person's yes to a grant that needs two
	// (role.NeedsConfirmation); for an admin, confirming is granting again.
	ActionConfirm = "confirm"
)

// Permission is one action on one object.
type Permission struct {
	Object, Action string
}

// Vocabulary returns every permission there is, object by object, in a fixed
// order: for exhaustive tests and for checking the policy file.
func Vocabulary() []Permission {
	var out []Permission
	for _, o := range vocabulary {
		for _, a := range o.actions {
			out = append(out, Permission{o.object, a})
		}
	}
	return out
}

var vocabulary = []struct {
	object  string
	actions []string
}{
	{ObjectIncident, []string{ActionReport, ActionQualify, ActionLog, ActionEscalate, ActionStabilize, ActionClose, ActionReopen, ActionRead}},
	{ObjectResource, []string{ActionRegister, ActionEngage, ActionRelease, ActionSetStatus, ActionSetOccupancy, ActionRead}},
	{ObjectReinforcement, []string{ActionRequest, ActionDecide, ActionDispatch, ActionArrive, ActionRelease, ActionRead}},
	{ObjectAlert, []string{ActionDraft, ActionSubmit, ActionApprove, ActionReject, ActionCancel, ActionValidateFRAlert, ActionRefuseFRAlert, ActionRead}},
	{ObjectResident, []string{ActionRegister, ActionErase}},
	{ObjectRole, []string{ActionGrant, ActionRevoke, ActionConfirm, ActionRead}},
	{ObjectTimeline, []string{ActionRead}},
	{ObjectJournal, []string{ActionRead}},
}

func known(p Permission) bool {
	for _, o := range vocabulary {
		if o.object != p.Object {
			continue
		}
		for _, a := range o.actions {
			if a == p.Action {
				return true
			}
		}
	}
	return false
}
