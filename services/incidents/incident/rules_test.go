package incident

import (
	"testing"

	"vigie/events"
)

// One refusal per rule: given a history, when a command, then that rule's error.

func TestReportingAnExistingIncidentIsRefused(t *testing.T) {
	thenRefused(t, given(reported()),
		report(Report{IncidentID: "inc-1", Domain: nimes, Kind: KindFlood, Title: "Doublon"}, rac, at(1)),
		ErrAlreadyReported)
}

func TestCommandsBeforeTheReportAreRefused(t *testing.T) {
	for name, when := range map[string]command{
		"qualify":   qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor}, rac, at(1)),
		"log":       addEntry(AddLogEntry{EntryID: "e1", Text: "Rien"}, operator, at(1)),
		"escalate":  escalate("Pourquoi pas", mayor, at(1)),
		"stabilize": stabilize(rac, at(1)),
		"close":     closeWith("Fin", rac, at(1)),
		"reopen":    reopen("Encore", rac, at(1)),
	} {
		t.Run(name, func(t *testing.T) { thenRefused(t, given(), when, ErrNotFound) })
	}
}

func TestAClosedIncidentRefusesEverythingButReopening(t *testing.T) {
	for name, when := range map[string]command{
		"qualify":   qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor}, rac, at(401)),
		"log":       addEntry(AddLogEntry{EntryID: "e1", Text: "Après coup"}, operator, at(401)),
		"escalate":  escalate("Trop tard", mayor, at(401)),
		"stabilize": stabilize(rac, at(401)),
		"close":     closeWith("Encore", rac, at(401)),
	} {
		t.Run(name, func(t *testing.T) {
			thenRefused(t, given(reported(), qualified(), closed(rac)), when, ErrIncidentClosed)
		})
	}
}

func TestEscalatingOrStabilizingBeforeQualificationIsRefused(t *testing.T) {
	for name, history := range map[string][]events.Event{
		"reported":                      given(reported()),
		"reopened, never qualified":     given(reported(), closed(rac), IncidentReopened{Reason: "Reprise", By: rac.Subject, At: at(500)}),
		"with log entries, unqualified": given(reported(), entry("e1", "Pompiers sur place", "")),
	} {
		t.Run(name, func(t *testing.T) {
			thenRefused(t, history, escalate("Débordement", mayor, at(30)), ErrNotQualified)
			thenRefused(t, history, stabilize(rac, at(30)), ErrNotQualified)
		})
	}
}

func TestEscalatingTwiceIsRefused(t *testing.T) {
	thenRefused(t, given(reported(), qualified(), escalated()), escalate("Encore", cod, at(31)), ErrAlreadyEscalated)

	t.Run("even after closing and reopening", func(t *testing.T) {
		history := given(reported(), qualified(), escalated(), closed(cod), IncidentReopened{Reason: "Reprise", By: cod.Subject, At: at(500)})
		thenRefused(t, history, escalate("Encore", mayor, at(501)), ErrAlreadyEscalated)
	})
}

func TestOnlyTheMayorOrThePrefectureMayEscalate(t *testing.T) {
	for _, by := range []events.Actor{rac, operator, field, observer, admin} {
		t.Run(by.Role, func(t *testing.T) {
			thenRefused(t, given(reported(), qualified()), escalate("Débordement", by, at(30)), ErrEscalationRole)
		})
	}
}

func TestAfterEscalationOnlyThePrefectureDecidesTheCourse(t *testing.T) {
	history := given(reported(), qualified(), escalated())
	for _, by := range []events.Actor{mayor, rac, operator, field} {
		t.Run(by.Role, func(t *testing.T) {
			thenRefused(t, history, qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor}, by, at(40)), ErrDirectedByPrefecture)
			thenRefused(t, history, stabilize(by, at(200)), ErrDirectedByPrefecture)
			thenRefused(t, history, closeWith("Fin", by, at(400)), ErrDirectedByPrefecture)
			thenRefused(t, append(history, closed(cod)), reopen("Reprise", by, at(500)), ErrDirectedByPrefecture)
		})
	}
}

func TestBeforeEscalationThePrefectureDoesNotDirect(t *testing.T) {
	history := given(reported(), qualified())
	thenRefused(t, history, qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor}, cod, at(40)), ErrNotDirector)
	thenRefused(t, history, stabilize(cod, at(200)), ErrNotDirector)
	thenRefused(t, history, closeWith("Fin", cod, at(400)), ErrNotDirector)
	thenRefused(t, append(history, closed(rac)), reopen("Reprise", cod, at(500)), ErrNotDirector)
}

func TestStabilizingTwiceIsRefused(t *testing.T) {
	thenRefused(t, given(reported(), qualified(), stabilized(rac)), stabilize(rac, at(201)), ErrAlreadyStabilized)
}

func TestReopeningAnOpenIncidentIsRefused(t *testing.T) {
	for _, tt := range []struct {
		name    string
		history []events.Event
		by      events.Actor // whoever directs it, so only the status can refuse
	}{
		{"reported", given(reported()), rac},
		{"qualified", given(reported(), qualified()), rac},
		{"escalated", given(reported(), qualified(), escalated()), cod},
		{"stabilized", given(reported(), qualified(), stabilized(rac)), rac},
	} {
		t.Run(tt.name, func(t *testing.T) {
			thenRefused(t, tt.history, reopen("Reprise", tt.by, at(500)), ErrNotClosed)
		})
	}
}

func TestACorrectionOfAnUnknownEntryIsRefused(t *testing.T) {
	thenRefused(t, given(reported(), entry("e1", "Pompiers sur place", "")),
		addEntry(AddLogEntry{EntryID: "e2", Text: "Correction", Corrects: "e9"}, operator, at(20)),
		ErrUnknownEntry)

	t.Run("an entry cannot correct itself", func(t *testing.T) {
		thenRefused(t, given(reported()),
			addEntry(AddLogEntry{EntryID: "e1", Text: "Correction", Corrects: "e1"}, operator, at(20)),
			ErrUnknownEntry)
	})
}

func TestAReusedEntryIDIsRefused(t *testing.T) {
	thenRefused(t, given(reported(), entry("e1", "Pompiers sur place", "")),
		addEntry(AddLogEntry{EntryID: "e1", Text: "Autre chose"}, operator, at(20)),
		ErrDuplicateEntry)
}
