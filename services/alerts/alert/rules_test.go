package alert

import (
	"testing"

	"vigie/events"
)

// One refusal per rule: given a history, when a command, then that rule's error.

func revision() Revision {
	return Revision{Content: revisedFlood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}}
}

func frRequested() []events.Event {
	return given(drafted(ChannelSMS, ChannelFrAlert), submitted(2), approved(1, MsgTypeAlert, 5), FrAlertRequested{By: mayor.Subject, At: at(5)})
}

func TestDraftingAnExistingAlertIsRefused(t *testing.T) {
	thenRefused(t, given(drafted()),
		draft(Draft{AlertID: "al-1", Domain: nimes, Content: flood(), Channels: []Channel{ChannelSMS}}, rac, at(1)),
		ErrAlreadyDrafted)
}

func TestCommandsBeforeTheDraftAreRefused(t *testing.T) {
	for name, when := range map[string]command{
		"revise":   revise(revision(), rac, at(1)),
		"submit":   submit(rac, at(1)),
		"approve":  approve(mayor, at(1)),
		"reject":   reject("Non", mayor, at(1)),
		"validate": validateFrAlert(cod, at(1)),
		"refuse":   refuseFrAlert("Non", cod, at(1)),
		"cancel":   cancel("Rien", rac, at(1)),
		"expire":   expire(rac, at(1)),
		"start":    startDispatch("al-1.1", nil, dispatcher, at(1)),
		"sent":     markSent("al-1.1", dispatcher, at(1)),
		"failure":  recordFailure("al-1.1", ChannelSMS, "panne", dispatcher, at(1)),
	} {
		t.Run(name, func(t *testing.T) { thenRefused(t, given(), when, ErrNotFound) })
	}
}

func TestACancelledOrExpiredAlertRefusesEveryDecision(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"cancelled": append(out(), AlertCancelled{Reason: "Décrue", By: mayor.Subject, At: at(60)}),
		"expired":   append(out(), AlertExpired{At: at(400)}),
	} {
		for what, when := range map[string]command{
			"revise":   revise(revision(), rac, at(401)),
			"submit":   submit(rac, at(401)),
			"approve":  approve(mayor, at(401)),
			"reject":   reject("Non", mayor, at(401)),
			"validate": validateFrAlert(cod, at(401)),
			"refuse":   refuseFrAlert("Non", cod, at(401)),
			"cancel":   cancel("Encore", rac, at(401)),
			"expire":   expire(rac, at(401)),
			"start":    startDispatch("al-1.1", nil, dispatcher, at(401)),
		} {
			t.Run(name+"/"+what, func(t *testing.T) { thenRefused(t, history, when, ErrAlertClosed) })
		}
	}
}

func TestWhatTheDispatcherDidIsRecordedEvenAfterACancellation(t *testing.T) {
	history := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5), started(1, 6),
		AlertCancelled{Reason: "Décrue", By: mayor.Subject, Message: &Message{Identifier: "al-1.2", Sent: at(7), MsgType: MsgTypeCancel}, At: at(7)})
	thenEvents(t, history, recordFailure("al-1.1", ChannelSMS, "opérateur injoignable", dispatcher, at(8)), failed(1, ChannelSMS, 8))
	thenEvents(t, history, markSent("al-1.1", dispatcher, at(9)), sent(1, 9))
}

func TestRevisingWhileAwaitingADecisionIsRefused(t *testing.T) {
	thenRefused(t, pending(), revise(revision(), rac, at(3)), ErrAwaitingApproval)
	thenRefused(t, frRequested(), revise(revision(), rac, at(6)), ErrAwaitingApproval)
}

func TestRevisingWhileTheMessageGoesOutIsRefused(t *testing.T) {
	approvedOnly := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5))
	thenRefused(t, approvedOnly, revise(revision(), rac, at(6)), ErrBeingDispatched)
	thenRefused(t, append(approvedOnly, started(1, 6)), revise(revision(), rac, at(7)), ErrBeingDispatched)
	validated := append(frRequested(), FrAlertValidated{By: cod.Subject, At: at(6)})
	thenRefused(t, validated, revise(revision(), rac, at(7)), ErrBeingDispatched)
}

func TestRevisingAfterTheMessageWentOutIsAccepted(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"sent":             out(),
		"failed":           given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5), started(1, 6), failed(1, ChannelSMS, 7), failed(1, ChannelCAPFeed, 7)),
		"FR-Alert refused": append(frRequested(), FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(6)}),
	} {
		t.Run(name, func(t *testing.T) {
			thenEvents(t, history, revise(revision(), rac, at(30)), revised(rac, 30))
		})
	}
}

func TestSubmittingAnythingButADraftIsRefused(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"pending":  pending(),
		"approved": given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5)),
		"sent":     out(),
	} {
		t.Run(name, func(t *testing.T) { thenRefused(t, history, submit(rac, at(30)), ErrNotDraft) })
	}
}

func TestApprovingOrRejectingWhatIsNotPendingIsRefused(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"draft":    given(drafted()),
		"rejected": given(drafted(), submitted(2), rejected()),
		"approved": given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5)),
		"sent":     out(),
	} {
		t.Run(name, func(t *testing.T) {
			thenRefused(t, history, approve(mayor, at(30)), ErrNotPending)
			thenRefused(t, history, reject("Non", mayor, at(30)), ErrNotPending)
		})
	}
}

func TestOnlyTheMayorApprovesOrRejects(t *testing.T) {
	for _, by := range []events.Actor{rac, operator, field, observer, admin, cod} {
		t.Run(by.Role, func(t *testing.T) {
			thenRefused(t, pending(), approve(by, at(5)), ErrApproverRole)
			thenRefused(t, pending(), reject("Non", by, at(5)), ErrApproverRole)
		})
	}
}

func TestTheApproverIsNeverAnAuthor(t *testing.T) {
	t.Run("the drafter", func(t *testing.T) {
		d := drafted()
		d.By = mayor.Subject
		thenRefused(t, given(d, submitted(2)), approve(mayor, at(5)), ErrSelfApproval)
	})
	t.Run("a reviser", func(t *testing.T) {
		thenRefused(t, given(drafted(), revised(mayor, 1), submitted(2)), approve(mayor, at(5)), ErrSelfApproval)
	})
	t.Run("a reviser before a rejection", func(t *testing.T) {
		thenRefused(t, given(drafted(), revised(mayor, 1), submitted(2), rejected(), submitted(4)), approve(mayor, at(5)), ErrSelfApproval)
	})
	t.Run("the reviser of a sent alert", func(t *testing.T) {
		thenRefused(t, append(out(), revised(mayor, 30), submitted(31)), approve(mayor, at(32)), ErrSelfApproval)
		// Another mayor (a deputy) may approve it.
		thenEvents(t, append(out(), revised(mayor, 30), submitted(31)), approve(deputy, at(32)),
			AlertApproved{By: deputy.Subject, Version: 2, Message: message(2, MsgTypeUpdate, 32), At: at(32)})
	})
	t.Run("but not the drafter of a content revised since its approval", func(t *testing.T) {
		d := drafted()
		d.By = mayor.Subject
		history := given(d, submitted(2), approved(1, MsgTypeAlert, 5), started(1, 6), sent(1, 9), revised(rac, 30), submitted(31))
		thenEvents(t, history, approve(mayor, at(32)), approved(2, MsgTypeUpdate, 32))
	})
}

func TestFrAlertDecisionsNeedARequest(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"pending":           pending(ChannelSMS, ChannelFrAlert),
		"approved, no FR":   given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5)),
		"already validated": append(frRequested(), FrAlertValidated{By: cod.Subject, At: at(6)}),
		"already refused":   append(frRequested(), FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(6)}),
		"revised since":     append(frRequested(), FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(6)}, revised(rac, 7)),
	} {
		t.Run(name, func(t *testing.T) {
			thenRefused(t, history, validateFrAlert(cod, at(10)), ErrNoFrAlertRequest)
			thenRefused(t, history, refuseFrAlert("Non", cod, at(10)), ErrNoFrAlertRequest)
		})
	}
}

func TestOnlyThePrefectureDecidesFrAlert(t *testing.T) {
	for _, by := range []events.Actor{mayor, rac, operator, field, observer, admin} {
		t.Run(by.Role, func(t *testing.T) {
			thenRefused(t, frRequested(), validateFrAlert(by, at(10)), ErrFrAlertRole)
			thenRefused(t, frRequested(), refuseFrAlert("Non", by, at(10)), ErrFrAlertRole)
		})
	}
}

func TestExpiringBeforeTheExpiryIsRefused(t *testing.T) {
	thenRefused(t, out(), expire(rac, at(359)), ErrNotExpired)

	t.Run("an alert without expiry never expires", func(t *testing.T) {
		d := drafted()
		d.Content.Expires = nil
		thenRefused(t, given(d), expire(rac, at(100000)), ErrNotExpired)
	})
}

func TestDispatchingOnlyTheLatestApprovedMessage(t *testing.T) {
	approvedOnce := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5))
	thenRefused(t, pending(), startDispatch("al-1.1", nil, dispatcher, at(6)), ErrNotApproved)
	thenRefused(t, approvedOnce, startDispatch("al-1.2", nil, dispatcher, at(6)), ErrNotApproved)
	thenRefused(t, append(out(), revised(rac, 30), submitted(31), approved(2, MsgTypeUpdate, 32)),
		startDispatch("al-1.1", nil, dispatcher, at(33)), ErrNotApproved)
	thenRefused(t, append(approvedOnce, started(1, 6)), startDispatch("al-1.1", nil, dispatcher, at(7)), ErrAlreadyDispatching)
	thenRefused(t, out(), startDispatch("al-1.1", nil, dispatcher, at(30)), ErrAlreadyDispatching)

	t.Run("a revision since the approval", func(t *testing.T) {
		history := append(frRequested(), FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(6)}, revised(rac, 7))
		thenRefused(t, history, startDispatch("al-1.1", nil, dispatcher, at(8)), ErrNotApproved)
	})
}

func TestMarkingSentOrFailingWhatIsNotDispatchedIsRefused(t *testing.T) {
	approvedOnce := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5))
	thenRefused(t, approvedOnce, markSent("al-1.1", dispatcher, at(6)), ErrNotDispatching)
	thenRefused(t, out(), markSent("al-1.1", dispatcher, at(10)), ErrNotDispatching)
	thenRefused(t, approvedOnce, recordFailure("al-1.1", ChannelSMS, "panne", dispatcher, at(6)), ErrNotDispatching)
	thenRefused(t, append(approvedOnce, started(1, 6)), recordFailure("al-1.2", ChannelSMS, "panne", dispatcher, at(7)), ErrNotDispatching)
}

func TestOnlyTheDispatcherCommandsAcceptTheSystemRole(t *testing.T) {
	thenRefused(t, given(), draft(Draft{AlertID: "al-1", Domain: nimes, Content: flood(), Channels: []Channel{ChannelSMS}}, dispatcher, at(0)), ErrInvalidInput)
	thenRefused(t, given(drafted()), submit(dispatcher, at(1)), ErrInvalidInput)
	thenRefused(t, pending(), approve(dispatcher, at(5)), ErrInvalidInput)
	thenRefused(t, out(), cancel("Auto", dispatcher, at(30)), ErrInvalidInput)
	thenEvents(t, given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5)),
		startDispatch("al-1.1", map[string]int{}, events.Actor{Subject: "sub-rac-30189", Role: events.RoleRAC}, at(6)),
		AlertDispatchStarted{Identifier: "al-1.1", Recipients: map[string]int{}, At: at(6)})
}

// The flood content expires at minute 360: approving it later would publish a CAP
// message that expired before it was sent.
func TestApprovingAfterTheExpiryIsRefused(t *testing.T) {
	thenRefused(t, pending(), approve(mayor, at(360)), ErrExpiresBeforeApproval)
	thenRefused(t, pending(), approve(mayor, at(500)), ErrExpiresBeforeApproval)
}
