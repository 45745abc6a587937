package incident

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

func TestInvalidInputIsRefusedNamingTheField(t *testing.T) {
	valid := Report{IncidentID: "inc-1", Domain: nimes, Kind: KindFlood, Title: "Eau sur la chaussée"}
	reportWith := func(change func(*Report)) command {
		r := valid
		change(&r)
		return report(r, rac, at(0))
	}
	qualifyWith := func(change func(*Qualify)) command {
		q := Qualify{Kind: KindFlood, Severity: SeverityModerate}
		change(&q)
		return qualify(q, rac, at(10))
	}
	open := given(reported())

	tests := []struct {
		name    string
		history []events.Event
		when    command
		field   string
	}{
		{"empty incident id", nil, reportWith(func(r *Report) { r.IncidentID = "" }), "incidentId"},
		{"incident id with a space", nil, reportWith(func(r *Report) { r.IncidentID = "inc 1" }), "incidentId"},
		{"incident id not UTF-8", nil, reportWith(func(r *Report) { r.IncidentID = "inc-\xff" }), "incidentId"},
		{"incident id too long", nil, reportWith(func(r *Report) { r.IncidentID = strings.Repeat("i", MaxIDLen+1) }), "incidentId"},
		{"empty domain", nil, reportWith(func(r *Report) { r.Domain = "" }), "domain"},
		{"a département's domain", nil, reportWith(func(r *Report) { r.Domain = "dep:30" }), "domain"},
		{"unknown kind", nil, reportWith(func(r *Report) { r.Kind = "tsunami" }), "kind"},
		{"no kind", nil, reportWith(func(r *Report) { r.Kind = "" }), "kind"},
		{"empty title", nil, reportWith(func(r *Report) { r.Title = "" }), "title"},
		{"blank title", nil, reportWith(func(r *Report) { r.Title = " \t " }), "title"},
		{"title too long", nil, reportWith(func(r *Report) { r.Title = strings.Repeat("é", MaxTitleLen+1) }), "title"},
		{"title on two lines", nil, reportWith(func(r *Report) { r.Title = "Eau\nsur la chaussée" }), "title"},
		{"title not UTF-8", nil, reportWith(func(r *Report) { r.Title = "Eau \xff" }), "title"},
		{"description too long", nil, reportWith(func(r *Report) { r.Description = strings.Repeat("é", MaxDescriptionLen+1) }), "description"},
		{"description with NUL", nil, reportWith(func(r *Report) { r.Description = "a\x00b" }), "description"},
		{"unknown severity", nil, reportWith(func(r *Report) { r.Severity = "High" }), "severity"},
		{"latitude beyond 90", nil, reportWith(func(r *Report) { r.Location = &Point{Lat: 90.5, Lon: 4} }), "location"},
		{"longitude beyond -180", nil, reportWith(func(r *Report) { r.Location = &Point{Lat: 43, Lon: -180.5} }), "location"},
		{"NaN latitude", nil, reportWith(func(r *Report) { r.Location = &Point{Lat: math.NaN(), Lon: 4} }), "location"},
		{"infinite longitude", nil, reportWith(func(r *Report) { r.Location = &Point{Lat: 43, Lon: math.Inf(1)} }), "location"},

		{"qualification without kind", open, qualifyWith(func(q *Qualify) { q.Kind = "" }), "kind"},
		{"qualification without severity", open, qualifyWith(func(q *Qualify) { q.Severity = "" }), "severity"},
		{"CAP's Unknown severity", open, qualifyWith(func(q *Qualify) { q.Severity = "Unknown" }), "severity"},
		{"qualification at a bad location", open, qualifyWith(func(q *Qualify) { q.Location = &Point{Lat: -91} }), "location"},
		{"zone of two points", open, qualifyWith(func(q *Qualify) { q.Zone = district()[:2] }), "zone"},
		{"zone too large", open, qualifyWith(func(q *Qualify) { q.Zone = make([]Point, MaxZonePoints+1) }), "zone"},
		{"zone with a bad point", open, qualifyWith(func(q *Qualify) { q.Zone = []Point{{Lat: 43, Lon: 4}, {Lat: 43, Lon: 200}, {Lat: 44, Lon: 4}} }), "zone[1]"},

		{"empty entry id", open, addEntry(AddLogEntry{Text: "Pompiers sur place"}, operator, at(15)), "entryId"},
		{"empty log text", open, addEntry(AddLogEntry{EntryID: "e1", Text: " \n"}, operator, at(15)), "text"},
		{"log text too long", open, addEntry(AddLogEntry{EntryID: "e1", Text: strings.Repeat("é", MaxLogTextLen+1)}, operator, at(15)), "text"},
		{"log text with a bell", open, addEntry(AddLogEntry{EntryID: "e1", Text: "ding\a"}, operator, at(15)), "text"},

		{"escalation without reason", given(reported(), qualified()), escalate("", mayor, at(30)), "reason"},
		{"escalation reason too long", given(reported(), qualified()), escalate(strings.Repeat("é", MaxReasonLen+1), mayor, at(30)), "reason"},
		{"closing without summary", open, closeWith("  ", rac, at(400)), "summary"},
		{"reopening without reason", given(reported(), closed(rac)), reopen("", rac, at(500)), "reason"},

		{"actor without subject", open, stabilize(events.Actor{Role: events.RoleRAC}, at(200)), "by"},
		{"actor of an unknown role", open, addEntry(AddLogEntry{EntryID: "e1", Text: "x"}, events.Actor{Subject: "s", Role: "king"}, at(15)), "by"},
		{"reopening by an actor without subject", given(reported(), closed(rac)), reopen("Reprise", events.Actor{Role: events.RoleRAC}, at(500)), "by"},
		{"zero time", nil, report(valid, rac, time.Time{}), "at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := thenRefused(t, tt.history, tt.when, ErrInvalidInput)
			var input *InputError
			if !errors.As(err, &input) || input.Field != tt.field || !strings.Contains(err.Error(), ": "+tt.field+": ") {
				t.Errorf("error = %v, want it to name the field %s", err, tt.field)
			}
		})
	}
}

func TestInputAtItsBoundsIsAccepted(t *testing.T) {
	title, long, reason := strings.Repeat("é", MaxTitleLen), strings.Repeat("é", MaxLogTextLen), strings.Repeat("é", MaxReasonLen)
	ring := make([]Point, MaxZonePoints)
	for n := range ring {
		angle := 2 * math.Pi * float64(n) / MaxZonePoints
		ring[n] = Point{Lat: 43.84 + 0.01*math.Sin(angle), Lon: 4.35 + 0.01*math.Cos(angle)}
	}
	edge := &Point{Lat: -90, Lon: 180}

	thenEvents(t, given(),
		report(Report{IncidentID: strings.Repeat("i", MaxIDLen), Domain: nimes, Kind: KindOther, Title: title, Description: long, Location: edge}, rac, at(0)),
		IncidentReported{IncidentID: strings.Repeat("i", MaxIDLen), Domain: nimes, Kind: KindOther, Title: title, Description: long, Location: edge, ReportedBy: rac.Subject, At: at(0)})
	thenEvents(t, given(reported()),
		qualify(Qualify{Kind: KindFlood, Severity: SeverityMinor, Zone: ring}, rac, at(10)),
		IncidentQualified{Kind: KindFlood, Severity: SeverityMinor, Location: bridge(), Zone: ring, By: rac.Subject, At: at(10)})
	thenEvents(t, given(reported()),
		addEntry(AddLogEntry{EntryID: "e1", Text: long}, operator, at(15)),
		LogEntryAdded{EntryID: "e1", Text: long, Author: operator.Subject, At: at(15)})
	thenEvents(t, given(reported(), qualified()),
		escalate(reason, mayor, at(30)),
		IncidentEscalated{Reason: reason, By: mayor.Subject, At: at(30)})
	thenEvents(t, given(reported()),
		addEntry(AddLogEntry{EntryID: "e1", Text: "Ligne 1\n\tLigne 2"}, operator, at(15)),
		LogEntryAdded{EntryID: "e1", Text: "Ligne 1\n\tLigne 2", Author: operator.Subject, At: at(15)})
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds() {
		for _, s := range []string{string(k), strings.ToUpper(string(k))} {
			if got, err := ParseKind(s); err != nil || got != k {
				t.Errorf("ParseKind(%q) = %q, %v", s, got, err)
			}
		}
	}
	if len(Kinds()) != 12 {
		t.Errorf("%d kinds, the contract names 12", len(Kinds()))
	}
	for _, s := range []string{"", "tsunami", "flash flood", "flashflood"} {
		if _, err := ParseKind(s); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseKind(%q) = %v, want ErrInvalidInput", s, err)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for s, want := range map[string]Severity{"Minor": SeverityMinor, "MODERATE": SeverityModerate, "severe": SeveritySevere, "Extreme": SeverityExtreme} {
		if got, err := ParseSeverity(s); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v, want %q", s, got, err, want)
		}
	}
	for _, s := range []string{"", "Unknown", "High"} {
		if _, err := ParseSeverity(s); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseSeverity(%q) = %v, want ErrInvalidInput", s, err)
		}
	}
}

func TestSeveritiesSortFromMinorToExtreme(t *testing.T) {
	got := []Severity{SeverityExtreme, "", SeverityMinor, SeveritySevere, SeverityModerate}
	slices.SortFunc(got, CompareSeverity)
	want := []Severity{"", SeverityMinor, SeverityModerate, SeveritySevere, SeverityExtreme}
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %q, want %q", got, want)
	}
	if !slices.IsSortedFunc(Severities(), CompareSeverity) {
		t.Errorf("Severities() = %q, not least severe first", Severities())
	}
}

func TestStatusesFollowTheLifecycle(t *testing.T) {
	want := []Status{StatusReported, StatusQualified, StatusEscalated, StatusStabilized, StatusClosed}
	if !slices.Equal(Statuses(), want) {
		t.Errorf("Statuses() = %q, want %q", Statuses(), want)
	}
}

func TestValidateDomain(t *testing.T) {
	for _, d := range []string{nimes, "dep:30/com:30007", "dep:2A/com:2A004", "dep:2B/com:2B033", "dep:13/com:13047", "dep:974/com:97411", "dep:988/com:98818", "dep:01/com:01001"} {
		if err := ValidateDomain(d); err != nil {
			t.Errorf("ValidateDomain(%q) = %v", d, err)
		}
	}
	for _, d := range []string{
		"", "dep:30", "dep:30/*", "dep:30/com:", "com:30189", " dep:30/com:30189", "dep:30/com:30189/x",
		"dep:30/com:13047", "dep:30/com:3018", "dep:30/com:301890", "dep:30/com:30A89",
		"dep:20/com:20004", "dep:00/com:00001", "dep:96/com:96001", "dep:2a/com:2a004", "dep:971/com:9710", "dep:979/com:97901", "dep:3/com:30189",
	} {
		if err := ValidateDomain(d); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ValidateDomain(%q) = %v, want ErrInvalidInput", d, err)
		}
	}
}
