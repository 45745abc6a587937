package alert

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"vigie/events"
)

// A Cévennes episode over Nîmes: the Cadereau d'Uzès overflows at night and
// the crisis cell warns the districts downstream.

func at(minutes int) time.Time {
	return time.Date(2026, 9, 14, 2, 10, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

func atp(minutes int) *time.Time { t := at(minutes); return &t }

var (
	mayor      = events.Actor{Subject: "sub-mayor-30189", Role: events.RoleMayor}
	deputy     = events.Actor{Subject: "sub-deputy-mayor-30189", Role: events.RoleMayor}
	rac        = events.Actor{Subject: "sub-rac-30189", Role: events.RoleRAC}
	operator   = events.Actor{Subject: "sub-operator-30189", Role: events.RoleOperator}
	field      = events.Actor{Subject: "sub-field-30189", Role: events.RoleField}
	observer   = events.Actor{Subject: "sub-observer-30189", Role: events.RoleObserver}
	admin      = events.Actor{Subject: "sub-admin-30189", Role: events.RoleAdmin}
	cod        = events.Actor{Subject: "sub-cod-30", Role: events.RolePrefecture}
	dispatcher = events.Actor{Subject: "dispatcher", Role: RoleSystem}
)

const nimes = "dep:30/com:30189"

func district() []Point {
	return []Point{{Lat: 43.845, Lon: 4.340}, {Lat: 43.850, Lon: 4.355}, {Lat: 43.838, Lon: 4.362}, {Lat: 43.832, Lon: 4.346}}
}

func flood() Content {
	return Content{
		Event:       "Crue soudaine",
		Headline:    "Crue du Cadereau d'Uzès : montez à l'étage",
		Description: "Le Cadereau d'Uzès déborde sur la route d'Uzès et les rues voisines.\nLa montée des eaux continue.",
		Instruction: "Montez à l'étage. Ne prenez pas votre voiture. Ne descendez pas dans les parkings souterrains.",
		Severity:    SeveritySevere, Urgency: UrgencyImmediate, Certainty: CertaintyObserved, Category: CategoryMet,
		AreaDesc: "Nîmes, quartiers Richelieu et route d'Uzès",
		Polygon:  district(),
		Language: "fr-FR",
		Expires:  atp(360),
	}
}

func revisedFlood() Content {
	c := flood()
	c.Headline = "Crue du Cadereau d'Uzès : évacuez le rez-de-chaussée"
	c.Severity = SeverityExtreme
	return c
}

// The history used by most tests, one event at a time.

func drafted(chs ...Channel) AlertDrafted {
	if chs == nil {
		chs = []Channel{ChannelSMS, ChannelCAPFeed}
	}
	return AlertDrafted{AlertID: "al-1", Domain: nimes, IncidentID: "inc-1", Content: flood(), Channels: chs, By: rac.Subject, At: at(0)}
}

func exerciseDrafted() AlertDrafted {
	d := drafted()
	d.Exercise = true
	d.Content.Headline = ExerciseText(d.Content.Headline)
	d.Content.Description = ExerciseText(d.Content.Description)
	d.Content.Instruction = ExerciseText(d.Content.Instruction)
	return d
}

func revised(by events.Actor, t int) AlertRevised {
	return AlertRevised{Content: revisedFlood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}, By: by.Subject, At: at(t)}
}

func submitted(t int) AlertSubmitted { return AlertSubmitted{By: rac.Subject, At: at(t)} }

func approved(n int, t MsgType, minute int) AlertApproved {
	return AlertApproved{By: mayor.Subject, Version: n, Message: message(n, t, minute), At: at(minute)}
}

func message(n int, t MsgType, minute int) Message {
	return Message{Identifier: "al-1." + string(rune('0'+n)), Sent: at(minute), MsgType: t}
}

func rejected() AlertRejected {
	return AlertRejected{Reason: "Précisez les rues concernées", By: mayor.Subject, At: at(3)}
}

func started(n int, minute int) AlertDispatchStarted {
	return AlertDispatchStarted{Identifier: message(n, MsgTypeAlert, 0).Identifier, Recipients: map[string]int{"SMS": 1200}, At: at(minute)}
}

func sent(n int, minute int) AlertSent {
	return AlertSent{Identifier: message(n, MsgTypeAlert, 0).Identifier, At: at(minute)}
}

func failed(n int, c Channel, minute int) AlertDispatchFailed {
	return AlertDispatchFailed{Identifier: message(n, MsgTypeAlert, 0).Identifier, Channel: c, Reason: "opérateur injoignable", At: at(minute)}
}

// pending is a drafted alert awaiting the mayor; out is one sent.
func pending(chs ...Channel) []events.Event { return given(drafted(chs...), submitted(2)) }
func out() []events.Event {
	return given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5), started(1, 6), sent(1, 9))
}

func given(history ...events.Event) []events.Event { return history }

// command is the "when" of a test: one command on the alert.
type command func(*Alert) ([]events.Event, error)

func draft(cmd Draft, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Draft(cmd, by, t) }
}
func revise(cmd Revision, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Revise(cmd, by, t) }
}
func submit(by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Submit(by, t) }
}
func approve(by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Approve(nil, by, t) }
}
func reject(reason string, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Reject(reason, by, t) }
}
func validateFrAlert(by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.ValidateFrAlert(by, t) }
}
func refuseFrAlert(reason string, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.RefuseFrAlert(reason, by, t) }
}
func cancel(reason string, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Cancel(reason, by, t) }
}
func expire(by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.Expire(by, t) }
}
func startDispatch(id string, recipients map[string]int, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.StartDispatch(id, recipients, nil, by, t) }
}
func markSent(id string, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.MarkSent(id, by, t) }
}
func recordFailure(id string, c Channel, reason string, by events.Actor, t time.Time) command {
	return func(a *Alert) ([]events.Event, error) { return a.RecordDispatchFailure(id, c, reason, by, t) }
}

func build(history []events.Event) *Alert {
	var a Alert
	for _, e := range history {
		a.Apply(e)
	}
	return &a
}

// decide runs when on the alert built from given, and fails the test if the
// command changed the alert: commands only decide.
func decide(t *testing.T, given []events.Event, when command) (*Alert, []events.Event, error) {
	t.Helper()
	a, untouched := build(given), build(given)
	got, err := when(a)
	if !reflect.DeepEqual(a, untouched) {
		t.Errorf("the command changed the alert:\n got %+v\nwant %+v", a, untouched)
	}
	return a, got, err
}

// thenEvents checks the command decides exactly want, and returns the alert
// with them applied.
func thenEvents(t *testing.T, given []events.Event, when command, want ...events.Event) *Alert {
	t.Helper()
	a, got, err := decide(t, given, when)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %#v\nwant %#v", got, want)
	}
	for _, e := range got {
		a.Apply(e)
	}
	return a
}

// thenRefused checks the command is refused by the rule want, with no event.
func thenRefused(t *testing.T, given []events.Event, when command, want error) error {
	t.Helper()
	_, got, err := decide(t, given, when)
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if got != nil {
		t.Errorf("refused with events %#v", got)
	}
	return err
}

func wantStatus(t *testing.T, a *Alert, want Status) {
	t.Helper()
	if got := a.Status(); got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
}

// Accepted commands: exact events, and the state they lead to.

func TestDraftOpensTheAlert(t *testing.T) {
	c := flood()
	c.Headline = "  " + c.Headline + "\n"
	c.Language = ""
	a := thenEvents(t, given(),
		draft(Draft{AlertID: "al-1", Domain: nimes, IncidentID: "inc-1", Content: c, Channels: []Channel{ChannelSMS, ChannelCAPFeed}}, rac, at(0)),
		drafted())
	wantStatus(t, a, StatusDraft)
	if a.ID() != "al-1" || a.Domain() != nimes || a.IncidentID() != "inc-1" || a.DraftedBy() != rac.Subject || !a.DraftedAt().Equal(at(0)) {
		t.Errorf("alert = %s %s %s by %s at %v", a.ID(), a.Domain(), a.IncidentID(), a.DraftedBy(), a.DraftedAt())
	}
	if !reflect.DeepEqual(a.Content(), flood()) || !a.Has(ChannelSMS) || a.Has(ChannelFrAlert) {
		t.Errorf("content %+v channels %v", a.Content(), a.Channels())
	}
	if !reflect.DeepEqual(a.Authors(), []string{rac.Subject}) {
		t.Errorf("authors = %v", a.Authors())
	}
	if _, ok := a.LatestMessage(); ok || a.Exercise() {
		t.Errorf("a draft has no message and is no exercise")
	}
}

func TestAnExerciseDraftMarksEveryTextResidentsRead(t *testing.T) {
	c := flood()
	c.Instruction = "EXERCICE : montez à l'étage."
	want := drafted()
	want.Exercise = true
	want.Content.Headline = "EXERCICE – Crue du Cadereau d'Uzès : montez à l'étage"
	want.Content.Description = ExercisePrefix + flood().Description
	want.Content.Instruction = "EXERCICE : montez à l'étage."
	a := thenEvents(t, given(),
		draft(Draft{AlertID: "al-1", Domain: nimes, IncidentID: "inc-1", Content: c, Channels: []Channel{ChannelSMS, ChannelCAPFeed}, Exercise: true}, rac, at(0)),
		want)
	if !a.Exercise() {
		t.Error("not an exercise")
	}

	t.Run("a revision is marked too", func(t *testing.T) {
		want := revised(rac, 1)
		want.Content.Headline = ExercisePrefix + want.Content.Headline
		want.Content.Description = ExercisePrefix + want.Content.Description
		want.Content.Instruction = ExercisePrefix + want.Content.Instruction
		thenEvents(t, given(exerciseDrafted()), revise(Revision{Content: revisedFlood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}}, rac, at(1)), want)
	})
}

func TestReviseEditsADraft(t *testing.T) {
	a := thenEvents(t, given(drafted()),
		revise(Revision{Content: revisedFlood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}}, operator, at(1)),
		revised(operator, 1))
	wantStatus(t, a, StatusDraft)
	if !reflect.DeepEqual(a.Authors(), []string{rac.Subject, operator.Subject}) {
		t.Errorf("authors = %v, want the drafter and the reviser", a.Authors())
	}
	if a.Content().Severity != SeverityExtreme {
		t.Errorf("content not revised: %+v", a.Content())
	}
}

func TestSubmitAsksTheMayor(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"draft":    given(drafted()),
		"rejected": given(drafted(), submitted(2), rejected()),
	} {
		t.Run(name, func(t *testing.T) {
			a := thenEvents(t, history, submit(rac, at(4)), AlertSubmitted{By: rac.Subject, At: at(4)})
			wantStatus(t, a, StatusPendingApproval)
			if !a.SubmittedAt().Equal(at(4)) {
				t.Errorf("submitted at %v", a.SubmittedAt())
			}
		})
	}
}

func TestApproveLetsTheFirstMessageOut(t *testing.T) {
	a := thenEvents(t, pending(), approve(mayor, at(5)), approved(1, MsgTypeAlert, 5))
	wantStatus(t, a, StatusApproved)
	if a.ApprovedBy() != mayor.Subject || !a.ApprovedAt().Equal(at(5)) {
		t.Errorf("approved by %q at %v", a.ApprovedBy(), a.ApprovedAt())
	}
	if m, ok := a.LatestMessage(); !ok || m != message(1, MsgTypeAlert, 5) {
		t.Errorf("latest message = %+v, %v", m, ok)
	}
	if a.References() != nil {
		t.Errorf("the first message references %v", a.References())
	}
}

func TestApproveAfterARejectionClearsTheReason(t *testing.T) {
	history := given(drafted(), submitted(2), rejected(), revised(rac, 4), submitted(5))
	want := approved(1, MsgTypeAlert, 6)
	want.Version = 2 // the revision after the rejection
	a := thenEvents(t, history, approve(mayor, at(6)), want)
	if a.RejectReason() != "" {
		t.Errorf("reject reason = %q after approval", a.RejectReason())
	}
}

func TestApprovingAnFrAlertAlsoAsksThePrefecture(t *testing.T) {
	a := thenEvents(t, pending(ChannelSMS, ChannelFrAlert), approve(mayor, at(5)),
		approved(1, MsgTypeAlert, 5), FrAlertRequested{By: mayor.Subject, At: at(5)})
	wantStatus(t, a, StatusFrAlertRequested)
	if a.FrAlert() != FrAlertStateRequested {
		t.Errorf("FR-Alert = %q", a.FrAlert())
	}
}

func TestInAnExerciseCommuneTheMayorMayApproveTheirOwnDraft(t *testing.T) {
	d := exerciseDrafted()
	d.By, d.Domain = mayor.Subject, "dep:30/com:30999"
	want := approved(1, MsgTypeAlert, 5)
	want.SelfApprovalWaived = true
	thenEvents(t, given(d, submitted(2)), approve(mayor, at(5)), want)
}

// One person must never be able to message a real town, exercise or not.
func TestAnExerciseInARealCommuneNeedsTwoPeople(t *testing.T) {
	d := exerciseDrafted()
	d.By = mayor.Subject
	thenRefused(t, given(d, submitted(2)), approve(mayor, at(5)), ErrSelfApproval)
}

func TestARevisedSentAlertGoesOutAsAnUpdate(t *testing.T) {
	a := thenEvents(t, out(), revise(Revision{Content: revisedFlood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}}, mayor, at(30)), revised(mayor, 30))
	wantStatus(t, a, StatusDraft)
	if !reflect.DeepEqual(a.Authors(), []string{mayor.Subject}) {
		t.Errorf("authors = %v, want only the reviser since the approval", a.Authors())
	}

	history := append(out(), revised(rac, 30), submitted(31))
	a = thenEvents(t, history, approve(mayor, at(32)), approved(2, MsgTypeUpdate, 32))
	wantStatus(t, a, StatusApproved)
	if got, want := a.References(), []Message{message(1, MsgTypeAlert, 5)}; !reflect.DeepEqual(got, want) {
		t.Errorf("references = %v, want %v", got, want)
	}
	if got := a.Messages(); len(got) != 2 || got[1] != message(2, MsgTypeUpdate, 32) {
		t.Errorf("messages = %v", got)
	}
}

func TestRejectSendsTheAlertBack(t *testing.T) {
	a := thenEvents(t, pending(), reject("  Précisez les rues concernées ", mayor, at(3)), rejected())
	wantStatus(t, a, StatusRejected)
	if a.RejectReason() != "Précisez les rues concernées" {
		t.Errorf("reason = %q", a.RejectReason())
	}
	thenEvents(t, given(drafted(), submitted(2), rejected()), revise(Revision{Content: revisedFlood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}}, rac, at(4)), revised(rac, 4))
}

func TestThePrefectureValidatesFrAlert(t *testing.T) {
	history := given(drafted(ChannelSMS, ChannelFrAlert), submitted(2), approved(1, MsgTypeAlert, 5), FrAlertRequested{By: mayor.Subject, At: at(5)})
	a := thenEvents(t, history, validateFrAlert(cod, at(12)), FrAlertValidated{By: cod.Subject, At: at(12)})
	wantStatus(t, a, StatusApproved)
	if a.FrAlert() != FrAlertStateValidated {
		t.Errorf("FR-Alert = %q", a.FrAlert())
	}
}

func TestThePrefectureRefusesFrAlertAndTheCommuneChannelsGoOn(t *testing.T) {
	history := given(drafted(ChannelSMS, ChannelFrAlert), submitted(2), approved(1, MsgTypeAlert, 5),
		FrAlertRequested{By: mayor.Subject, At: at(5)}, started(1, 6))
	a := build(history)
	wantStatus(t, a, StatusFrAlertRequested)

	a = thenEvents(t, history, refuseFrAlert("Zone trop restreinte pour la diffusion cellulaire", cod, at(12)),
		FrAlertRefused{Reason: "Zone trop restreinte pour la diffusion cellulaire", By: cod.Subject, At: at(12)})
	wantStatus(t, a, StatusDispatching)
	if a.FrAlert() != FrAlertStateRefused || a.FrAlertRefusal() == "" {
		t.Errorf("FR-Alert = %q (%q)", a.FrAlert(), a.FrAlertRefusal())
	}
	// The commune's SMS went out; the status says the prefecture refused.
	a.Apply(sent(1, 14))
	wantStatus(t, a, StatusFrAlertRefused)
	if o := a.Progress().Outcomes(); len(o) != 2 || o[0].State != ChannelDelivered || o[1].State != ChannelRefused || o[1].Reason == "" {
		t.Errorf("outcomes = %+v", o)
	}
}

func TestCancelBeforeAnyMessageCarriesNone(t *testing.T) {
	a := thenEvents(t, pending(), cancel("Fausse alerte", rac, at(3)), AlertCancelled{Reason: "Fausse alerte", By: rac.Subject, At: at(3)})
	wantStatus(t, a, StatusCancelled)
	if !a.Cancelled() || len(a.Messages()) != 0 {
		t.Errorf("cancelled %v, messages %v", a.Cancelled(), a.Messages())
	}
}

func TestCancelAfterAMessageCarriesACAPCancel(t *testing.T) {
	cancelMsg := message(2, MsgTypeCancel, 60)
	a := thenEvents(t, out(), cancel("Décrue amorcée", mayor, at(60)),
		AlertCancelled{Reason: "Décrue amorcée", By: mayor.Subject, Message: &cancelMsg, At: at(60)})
	wantStatus(t, a, StatusCancelled)
	if m, _ := a.LatestMessage(); m != cancelMsg {
		t.Errorf("latest message = %+v", m)
	}
	if got := a.References(); !reflect.DeepEqual(got, []Message{message(1, MsgTypeAlert, 5)}) {
		t.Errorf("references = %v", got)
	}
}

func TestExpireOnceTheExpiryHasPassed(t *testing.T) {
	for _, minute := range []int{360, 400} {
		a := thenEvents(t, out(), expire(rac, at(minute)), AlertExpired{At: at(minute)})
		wantStatus(t, a, StatusExpired)
		if !a.Expired() {
			t.Error("not expired")
		}
	}
}

func TestTheDispatcherStartsAndFinishesAMessage(t *testing.T) {
	history := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5))
	recipients := map[string]int{"SMS": 1200, "CAP_FEED": 0}
	a := thenEvents(t, history, startDispatch("al-1.1", recipients, dispatcher, at(6)),
		AlertDispatchStarted{Identifier: "al-1.1", Recipients: map[string]int{"SMS": 1200, "CAP_FEED": 0}, At: at(6)})
	wantStatus(t, a, StatusDispatching)
	if id, done, got := a.Dispatch(); id != "al-1.1" || done || !reflect.DeepEqual(got, recipients) {
		t.Errorf("dispatch = %q %v %v", id, done, got)
	}

	history = append(history, started(1, 6))
	a = thenEvents(t, history, recordFailure("al-1.1", ChannelSMS, "opérateur injoignable", dispatcher, at(7)), failed(1, ChannelSMS, 7))
	wantStatus(t, a, StatusDispatching)
	if got := a.Failures(); len(got) != 1 || got[0].Channel != ChannelSMS {
		t.Errorf("failures = %v", got)
	}

	// The SMS failed and the feed went out: partly sent, never "sent".
	a = thenEvents(t, append(history, failed(1, ChannelSMS, 7)), markSent("al-1.1", dispatcher, at(9)), sent(1, 9))
	wantStatus(t, a, StatusPartiallySent)
}

func TestDeliveriesAreSummedPerChannel(t *testing.T) {
	a := build(out())
	for _, d := range []DeliveriesRecorded{
		{AlertID: "al-1", Domain: nimes, Identifier: "al-1.1", Channel: ChannelSMS, Bucket: 0, Sent: 600, Delivered: 590, Failed: 10, At: at(7)},
		{AlertID: "al-1", Domain: nimes, Identifier: "al-1.1", Channel: ChannelSMS, Bucket: 1, Sent: 600, Delivered: 597, Failed: 3, At: at(8)},
		{AlertID: "al-1", Domain: nimes, Identifier: "al-1.1", Channel: ChannelEmail, Bucket: 0, Sent: 40, Delivered: 40, At: at(8)},
	} {
		a.Apply(d)
	}
	want := map[Channel]Delivery{ChannelSMS: {Sent: 1200, Delivered: 1187, Failed: 13}, ChannelEmail: {Sent: 40, Delivered: 40}}
	if got := a.Deliveries(); !reflect.DeepEqual(got, want) {
		t.Errorf("deliveries = %v, want %v", got, want)
	}
}

func TestEveryChannelFailedIsAFailedAlert(t *testing.T) {
	history := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5), started(1, 6), failed(1, ChannelSMS, 7))
	wantStatus(t, build(history), StatusDispatching)
	a := build(append(history, failed(1, ChannelCAPFeed, 8)))
	wantStatus(t, a, StatusFailed)
	a.Apply(sent(1, 9))
	wantStatus(t, a, StatusFailed)

	t.Run("FR_ALERT counts only once validated", func(t *testing.T) {
		base := given(drafted(ChannelSMS, ChannelFrAlert), submitted(2), approved(1, MsgTypeAlert, 5),
			FrAlertRequested{By: mayor.Subject, At: at(5)}, started(1, 6), failed(1, ChannelSMS, 7))
		wantStatus(t, build(append(base, FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(8)})), StatusFrAlertRefused)
		wantStatus(t, build(append(base, FrAlertValidated{By: cod.Subject, At: at(8)})), StatusDispatching)
	})
}

func TestStatusFollowsTheWholeLifecycle(t *testing.T) {
	steps := []struct {
		event events.Event
		want  Status
	}{
		{drafted(ChannelSMS, ChannelFrAlert), StatusDraft},
		{submitted(2), StatusPendingApproval},
		{rejected(), StatusRejected},
		{revised(rac, 4), StatusDraft},
		{submitted(5), StatusPendingApproval},
		{approved(1, MsgTypeAlert, 6), StatusApproved},
		{FrAlertRequested{By: mayor.Subject, At: at(6)}, StatusFrAlertRequested},
		{started(1, 7), StatusFrAlertRequested},
		{sent(1, 9), StatusFrAlertRequested},
		{FrAlertValidated{By: cod.Subject, At: at(12)}, StatusSent},
		{revised(rac, 30), StatusDraft},
		{submitted(31), StatusPendingApproval},
		{approved(2, MsgTypeUpdate, 32), StatusApproved},
		{FrAlertRequested{By: mayor.Subject, At: at(32)}, StatusFrAlertRequested},
		{FrAlertRefused{Reason: "Non", By: cod.Subject, At: at(33)}, StatusApproved},
		{started(2, 34), StatusDispatching},
		{sent(2, 36), StatusFrAlertRefused},
		{AlertExpired{At: at(400)}, StatusExpired},
	}
	var a Alert
	for n, s := range steps {
		a.Apply(s.event)
		if got := a.Status(); got != s.want {
			t.Fatalf("after step %d (%s): status = %q, want %q", n, s.event.EventType(), got, s.want)
		}
	}
}

func TestApplyKeepsNothingOfTheEvent(t *testing.T) {
	d := drafted()
	var a Alert
	a.Apply(d)
	d.Content.Polygon[0] = Point{}
	d.Channels[0] = ChannelVoice
	*d.Content.Expires = at(1)
	if !reflect.DeepEqual(a.Content(), flood()) || a.Channels()[0] != ChannelSMS {
		t.Errorf("the alert shares the event's memory: %+v %v", a.Content(), a.Channels())
	}
	got := a.Content()
	got.Polygon[0] = Point{}
	if reflect.DeepEqual(a.Content(), got) {
		t.Error("Content shares the alert's memory")
	}
}
