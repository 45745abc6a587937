package alert

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

func validDraft() Draft {
	return Draft{AlertID: "al-1", Domain: nimes, IncidentID: "inc-1", Content: flood(), Channels: []Channel{ChannelSMS, ChannelCAPFeed}}
}

func TestInvalidInputIsRefusedNamingTheField(t *testing.T) {
	with := func(change func(*Draft)) Draft { d := validDraft(); change(&d); return d }
	content := func(change func(*Content)) Draft { return with(func(d *Draft) { change(&d.Content) }) }
	tests := []struct {
		name  string
		draft Draft
		by    events.Actor
		at    time.Time
		field string
	}{
		{"no subject", validDraft(), events.Actor{Role: events.RoleRAC}, at(0), "by"},
		{"unknown role", validDraft(), events.Actor{Subject: "x", Role: "mayor "}, at(0), "by"},
		{"zero time", validDraft(), rac, time.Time{}, "at"},
		{"empty id", with(func(d *Draft) { d.AlertID = "" }), rac, at(0), "alertId"},
		{"id with a space", with(func(d *Draft) { d.AlertID = "al 1" }), rac, at(0), "alertId"},
		{"id too long", with(func(d *Draft) { d.AlertID = strings.Repeat("a", MaxIDLen+1) }), rac, at(0), "alertId"},
		{"département domain", with(func(d *Draft) { d.Domain = "dep:30" }), rac, at(0), "domain"},
		{"commune of another département", with(func(d *Draft) { d.Domain = "dep:30/com:13047" }), rac, at(0), "domain"},
		{"incident id with a control", with(func(d *Draft) { d.IncidentID = "inc\x00" }), rac, at(0), "incidentId"},
		{"empty event", content(func(c *Content) { c.Event = "  " }), rac, at(0), "event"},
		{"event too long", content(func(c *Content) { c.Event = strings.Repeat("é", MaxEventLen+1) }), rac, at(0), "event"},
		{"multi-line event", content(func(c *Content) { c.Event = "Crue\nsoudaine" }), rac, at(0), "event"},
		{"empty headline", content(func(c *Content) { c.Headline = "" }), rac, at(0), "headline"},
		{"headline too long", content(func(c *Content) { c.Headline = strings.Repeat("a", MaxHeadlineLen+1) }), rac, at(0), "headline"},
		{"multi-line headline", content(func(c *Content) { c.Headline = "Crue\nMontez" }), rac, at(0), "headline"},
		{"empty description", content(func(c *Content) { c.Description = "" }), rac, at(0), "description"},
		{"description too long", content(func(c *Content) { c.Description = strings.Repeat("a", MaxDescriptionLen+1) }), rac, at(0), "description"},
		{"instruction too long", content(func(c *Content) { c.Instruction = strings.Repeat("a", MaxInstructionLen+1) }), rac, at(0), "instruction"},
		{"instruction with a control", content(func(c *Content) { c.Instruction = "Montez\x07" }), rac, at(0), "instruction"},
		{"invalid UTF-8", content(func(c *Content) { c.Description = "\xff" }), rac, at(0), "description"},
		{"empty area", content(func(c *Content) { c.AreaDesc = "" }), rac, at(0), "areaDesc"},
		{"area too long", content(func(c *Content) { c.AreaDesc = strings.Repeat("a", MaxAreaDescLen+1) }), rac, at(0), "areaDesc"},
		{"no severity", content(func(c *Content) { c.Severity = "" }), rac, at(0), "severity"},
		{"contract-form severity", content(func(c *Content) { c.Severity = "SEVERE" }), rac, at(0), "severity"},
		{"unknown urgency", content(func(c *Content) { c.Urgency = "Now" }), rac, at(0), "urgency"},
		{"unknown certainty", content(func(c *Content) { c.Certainty = "Sure" }), rac, at(0), "certainty"},
		{"unknown category", content(func(c *Content) { c.Category = "Flood" }), rac, at(0), "category"},
		{"two-point polygon", content(func(c *Content) { c.Polygon = district()[:2] }), rac, at(0), "polygon"},
		{"huge polygon", content(func(c *Content) { c.Polygon = make([]Point, MaxPolygonPoints+1) }), rac, at(0), "polygon"},
		{"point off Earth", content(func(c *Content) { c.Polygon[2].Lat = 91 }), rac, at(0), "polygon[2]"},
		{"NaN longitude", content(func(c *Content) { c.Polygon[1].Lon = math.NaN() }), rac, at(0), "polygon[1]"},
		{"language", content(func(c *Content) { c.Language = "français" }), rac, at(0), "language"},
		{"expired already", content(func(c *Content) { c.Expires = atp(0) }), rac, at(0), "expires"},
		{"expires before effective", content(func(c *Content) { c.Effective, c.Expires = atp(120), atp(60) }), rac, at(0), "expires"},
		{"zero effective", content(func(c *Content) { c.Effective = &time.Time{} }), rac, at(0), "effective"},
		{"no channel", with(func(d *Draft) { d.Channels = nil }), rac, at(0), "channels"},
		{"unknown channel", with(func(d *Draft) { d.Channels = []Channel{"sms"} }), rac, at(0), "channels"},
		{"channel twice", with(func(d *Draft) { d.Channels = []Channel{ChannelSMS, ChannelEmail, ChannelSMS} }), rac, at(0), "channels"},
		{"exercise headline too long once marked", with(func(d *Draft) {
			d.Exercise = true
			d.Content.Headline = strings.Repeat("a", MaxHeadlineLen-len([]rune(ExercisePrefix))+1)
		}), rac, at(0), "headline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := thenRefused(t, given(), draft(tt.draft, tt.by, tt.at), ErrInvalidInput)
			if !errors.Is(err, events.ErrInvalidInput) {
				t.Errorf("%v does not wrap events.ErrInvalidInput", err)
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Errorf("error = %v, want field %q", err, tt.field)
			}
		})
	}

	t.Run("revisions are checked the same way", func(t *testing.T) {
		c := revisedFlood()
		c.Headline = ""
		thenRefused(t, given(drafted()), revise(Revision{Content: c, Channels: []Channel{ChannelSMS}}, rac, at(1)), ErrInvalidInput)
		thenRefused(t, given(drafted()), revise(Revision{Content: revisedFlood()}, rac, at(1)), ErrInvalidInput)
	})
	t.Run("reasons", func(t *testing.T) {
		thenRefused(t, pending(), reject(" ", mayor, at(3)), ErrInvalidInput)
		thenRefused(t, pending(), reject(strings.Repeat("a", MaxReasonLen+1), mayor, at(3)), ErrInvalidInput)
		thenRefused(t, frRequested(), refuseFrAlert("", cod, at(6)), ErrInvalidInput)
		thenRefused(t, out(), cancel("", mayor, at(30)), ErrInvalidInput)
		thenRefused(t, given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5), started(1, 6)),
			recordFailure("al-1.1", ChannelSMS, "", dispatcher, at(7)), ErrInvalidInput)
	})
	t.Run("dispatch", func(t *testing.T) {
		approvedOnce := given(drafted(), submitted(2), approved(1, MsgTypeAlert, 5))
		thenRefused(t, approvedOnce, startDispatch("al-1.1", map[string]int{"EMAIL": 3}, dispatcher, at(6)), ErrInvalidInput)
		thenRefused(t, approvedOnce, startDispatch("al-1.1", map[string]int{"SMS": -1}, dispatcher, at(6)), ErrInvalidInput)
		thenRefused(t, approvedOnce, startDispatch("al-1.1", nil, events.Actor{Role: RoleSystem}, at(6)), ErrInvalidInput)
		thenRefused(t, append(approvedOnce, started(1, 6)), recordFailure("al-1.1", "TELEX", "panne", dispatcher, at(7)), ErrInvalidInput)
	})
}

func TestInputAtItsBoundsIsAccepted(t *testing.T) {
	d := validDraft()
	d.Content = Content{
		Event:       strings.Repeat("é", MaxEventLen),
		Headline:    strings.Repeat("é", MaxHeadlineLen),
		Description: strings.Repeat("é", MaxDescriptionLen),
		Instruction: "",
		Severity:    SeverityMinor, Urgency: UrgencyUnknown, Certainty: CertaintyUnknown, Category: CategoryCBRNE,
		AreaDesc:  strings.Repeat("é", MaxAreaDescLen),
		Polygon:   make([]Point, MaxPolygonPoints),
		Language:  "oc-x-gascon",
		Effective: atp(-60),
		Expires:   atp(1),
	}
	d.Channels = Channels()
	want := AlertDrafted{AlertID: d.AlertID, Domain: d.Domain, IncidentID: d.IncidentID, Content: d.Content, Channels: Channels(), By: rac.Subject, At: at(0)}
	thenEvents(t, given(), draft(d, rac, at(0)), want)

	t.Run("the smallest polygon and no optional field", func(t *testing.T) {
		d := validDraft()
		d.IncidentID = ""
		d.Content.Polygon = district()[:3]
		d.Content.Expires = nil
		d.Channels = []Channel{ChannelFrAlert}
		want := AlertDrafted{AlertID: "al-1", Domain: nimes, Content: d.Content, Channels: d.Channels, By: rac.Subject, At: at(0)}
		thenEvents(t, given(), draft(d, rac, at(0)), want)
	})
}

func TestExerciseText(t *testing.T) {
	for in, want := range map[string]string{
		"Montez à l'étage":            "EXERCICE – Montez à l'étage",
		"  Montez à l'étage\n":        "EXERCICE – Montez à l'étage",
		"EXERCICE – Montez à l'étage": "EXERCICE – Montez à l'étage",
		"EXERCICE : montez à l'étage": "EXERCICE : montez à l'étage",
		"Exercice communal, montez":   "Exercice communal, montez",
		"Exercer la prudence":         "EXERCICE – Exercer la prudence",
		"":                            "",
		"   ":                         "",
	} {
		if got := ExerciseText(in); got != want {
			t.Errorf("ExerciseText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAcceptsTheContractAndTheStoredForms(t *testing.T) {
	for _, tt := range []struct {
		in   string
		got  func(string) (string, error)
		want string
	}{
		{"FR_ALERT", str(ParseChannel), "FR_ALERT"},
		{"cap_feed", str(ParseChannel), "CAP_FEED"},
		{"EXTREME", str(ParseSeverity), "Extreme"},
		{"minor", str(ParseSeverity), "Minor"},
		{"IMMEDIATE", str(ParseUrgency), "Immediate"},
		{"OBSERVED", str(ParseCertainty), "Observed"},
		{"CBRNE", str(ParseCategory), "CBRNE"},
		{"GEO", str(ParseCategory), "Geo"},
		{"ENV", str(ParseCategory), "Env"},
		{"UPDATE", str(ParseMsgType), "Update"},
		{"PENDING_APPROVAL", str(ParseStatus), "pending_approval"},
		{"fr_alert_requested", str(ParseStatus), "fr_alert_requested"},
	} {
		if got, err := tt.got(tt.in); err != nil || got != tt.want {
			t.Errorf("parse %q = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "FR-ALERT", "sms ", "Telex"} {
		if _, err := ParseChannel(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseChannel(%q) = %v, want ErrInvalidInput", bad, err)
		}
	}
	for _, bad := range []string{"", "Catastrophic"} {
		if _, err := ParseSeverity(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseSeverity(%q) = %v", bad, err)
		}
	}
}

func str[T ~string](parse func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) { v, err := parse(s); return string(v), err }
}

func TestEveryEnumValueIsValidAndParsesBack(t *testing.T) {
	check := func(name string, values []string, parse func(string) (string, error)) {
		for _, v := range values {
			for _, form := range []string{v, strings.ToUpper(v), strings.ToLower(v)} {
				if got, err := parse(form); err != nil || got != v {
					t.Errorf("%s: parse %q = %q, %v", name, form, got, err)
				}
			}
		}
	}
	check("channel", strs(Channels()), str(ParseChannel))
	check("severity", strs(Severities()), str(ParseSeverity))
	check("urgency", strs(Urgencies()), str(ParseUrgency))
	check("certainty", strs(Certainties()), str(ParseCertainty))
	check("category", strs(Categories()), str(ParseCategory))
	check("msgType", strs(MsgTypes()), str(ParseMsgType))
	check("status", strs(Statuses()), str(ParseStatus))
	if len(Channels()) != 7 || len(Categories()) != 12 || len(Statuses()) != 12 {
		t.Error("the enums do not match the contract's")
	}
	if Channel("").Valid() || Severity("").Valid() || Status("").Valid() || MsgType("Ack").Valid() {
		t.Error("a zero or foreign value is valid")
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for n, v := range vs {
		out[n] = string(v)
	}
	return out
}

func TestValidLanguage(t *testing.T) {
	for _, ok := range []string{"fr", "fr-FR", "en-GB", "oc-x-gascon", "i-klingon", "zh-Hant-TW"} {
		if !ValidLanguage(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "fr_FR", "fr-", "-FR", "français", "1fr", "abcdefghi", "fr-FR-"} {
		if ValidLanguage(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidateDomain(t *testing.T) {
	for _, ok := range []string{nimes, "dep:2A/com:2A004", "dep:13/com:13047", "dep:971/com:97101"} {
		if err := ValidateDomain(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dep:30", "dep:30/*", "dep:30/com:3018", "dep:30/com:13047", "dep:20/com:20004", "dep:96/com:96001", "com:30189"} {
		if err := ValidateDomain(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%q: %v, want ErrInvalidInput", bad, err)
		}
	}
}
