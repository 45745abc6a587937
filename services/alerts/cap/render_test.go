package cap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"vigie/services/alerts/alert"
)

const nimes = "dep:30/com:30189"

func published() alert.Content {
	eff := time.Date(2024, 10, 17, 14, 30, 0, 0, time.UTC)
	exp := eff.Add(6 * time.Hour)
	return alert.Content{Event: "Crue", Headline: "Crue du Vistre : restez chez vous", Description: "Le Vistre déborde.",
		Instruction: "Montez à l'étage.", Severity: alert.SeveritySevere, Urgency: alert.UrgencyImmediate, Certainty: alert.CertaintyObserved,
		Category: alert.CategoryMet, AreaDesc: "Quartiers sud", Language: "fr-FR", Effective: &eff, Expires: &exp,
		Polygon: []alert.Point{{Lat: 43.80, Lon: 4.30}, {Lat: 43.80, Lon: 4.40}, {Lat: 43.86, Lon: 4.40}, {Lat: 43.86, Lon: 4.30}}}
}

func messages(types ...alert.MsgType) []alert.Message {
	t0 := time.Date(2024, 10, 17, 14, 30, 0, 0, time.UTC)
	out := make([]alert.Message, len(types))
	for i, mt := range types {
		out[i] = alert.Message{Identifier: "a1." + string(rune('1'+i)), Sent: t0.Add(time.Duration(i) * time.Hour), MsgType: mt}
	}
	return out
}

// TestRenderCarriesTheContentItIsGiven: the document is the given (published)
// content, an Update names every earlier message, an exercise says so; each
// validates with xmllint.
func TestRenderCarriesTheContentItIsGiven(t *testing.T) {
	for name, in := range map[string]AlertInput{
		"alert":        {Domain: nimes, Messages: messages(alert.MsgTypeAlert), Content: published()},
		"update":       AlertInput{Domain: nimes, Messages: messages(alert.MsgTypeAlert, alert.MsgTypeUpdate), Content: published()}.Latest(),
		"cancel":       AlertInput{Domain: nimes, Messages: messages(alert.MsgTypeAlert, alert.MsgTypeUpdate, alert.MsgTypeCancel), Content: published()}.Latest(),
		"exercise":     {Domain: nimes, Exercise: true, Messages: messages(alert.MsgTypeAlert), Content: published()},
		"first of two": {Domain: nimes, Messages: messages(alert.MsgTypeAlert, alert.MsgTypeUpdate), Content: published()},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Check(in); err != nil {
				t.Fatal(err)
			}
			doc, err := Document(in)
			if err != nil {
				t.Fatal(err)
			}
			xmllintValid(t, doc)
			a, err := Parse(bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			m := in.Messages[in.Index]
			if a.Identifier != m.Identifier || a.MsgType != string(m.MsgType) || a.Sender != "vigie.dep30.com30189" {
				t.Errorf("message %+v", a)
			}
			info := a.Infos[0]
			if info.Headline != in.Content.Headline || info.Description != in.Content.Description || info.Severity != "Severe" ||
				info.Areas[0].Geocodes[0] != (NameValue{"INSEE", "30189"}) || len(info.Areas[0].Polygons) != 1 {
				t.Errorf("info %+v", info)
			}
			refs, _ := ParseReferences(a.References)
			if len(refs) != in.Index {
				t.Errorf("%d references, want %d (every earlier message)", len(refs), in.Index)
			}
			if want := map[bool]string{true: "Exercise", false: "Actual"}[in.Exercise]; a.Status != want {
				t.Errorf("status %s, want %s", a.Status, want)
			}
		})
	}
	// The Cancel, sent after the content's expiry, carries none: CAP forbids
	// expires before sent.
	in := AlertInput{Domain: nimes, Messages: messages(alert.MsgTypeAlert, alert.MsgTypeCancel), Content: published()}.Latest()
	in.Messages[1].Sent = in.Content.Expires.Add(time.Hour)
	doc, err := Document(in)
	if err != nil {
		t.Fatal(err)
	}
	xmllintValid(t, doc)
	if bytes.Contains(doc, []byte("<expires>")) {
		t.Errorf("a Cancel after the expiry carries it:\n%s", doc)
	}
}

func TestRenderRefusesWhatItCannotRender(t *testing.T) {
	for name, in := range map[string]AlertInput{
		"no message":       {Domain: nimes, Content: published()},
		"index past":       {Domain: nimes, Messages: messages(alert.MsgTypeAlert), Index: 1, Content: published()},
		"not a commune":    {Domain: "dep:30", Messages: messages(alert.MsgTypeAlert), Content: published()},
		"negative message": {Domain: nimes, Messages: messages(alert.MsgTypeAlert), Index: -1, Content: published()},
	} {
		if _, err := Render(in); err == nil {
			t.Errorf("%s: rendered", name)
		}
		if err := Check(in); err == nil {
			t.Errorf("%s: checked", name)
		}
	}
}

// unchecked writes a without Validate: what xmllint makes of it is the point.
func unchecked(t *testing.T, a Alert) []byte {
	t.Helper()
	a.XMLName = xml.Name{Space: Namespace, Local: "alert"}
	doc, err := document(a)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestValidateRefusesTheDatesTheSchemaRefuses: a date xmllint refuses never
// validates, and the document with it is never written; years before MinYear are
// refused too (xmllint would take them), and the limits themselves pass both.
func TestValidateRefusesTheDatesTheSchemaRefuses(t *testing.T) {
	at := func(year int, zone *time.Location) Time { return At(time.Date(year, 10, 17, 14, 30, 0, 0, zone)) }
	utc := time.UTC
	for name, c := range map[string]struct {
		t Time
		// xmllint: the schema refuses the document too (false: only Vigie's rule does,
		// or the time cannot even be written in CAP's shape).
		xmllint bool
	}{
		"year 0000":                    {at(0, utc), true},
		"year 0001":                    {at(1, utc), false},
		"year 999":                     {at(999, utc), false},
		"negative year":                {at(-44, utc), false},
		"year 10000":                   {at(10000, utc), false},
		"offset beyond +14:00":         {at(2024, time.FixedZone("", 15*3600)), true},
		"offset beyond -14:00":         {at(2024, time.FixedZone("", -(14*3600+30*60))), true},
		"offset with seconds (LMT)":    {at(2024, time.FixedZone("LMT", 9*60+21)), false},
		"negative offset with seconds": {at(2024, time.FixedZone("", -(9*60+21))), false},
	} {
		for _, field := range []string{"sent", "effective", "onset", "expires"} {
			t.Run(name+"/"+field, func(t *testing.T) {
				a := flood()
				in := &a.Infos[0]
				switch field {
				case "sent":
					a.Sent = c.t
					in.Effective, in.Onset, in.Expires = Time{}, Time{}, Time{}
				case "effective":
					in.Effective, in.Onset, in.Expires = c.t, Time{}, Time{}
				case "onset":
					in.Onset = c.t
				case "expires":
					in.Effective, in.Expires = Time{}, c.t
				}
				err := a.Validate()
				if err == nil || !strings.Contains(err.Error(), field) {
					t.Fatalf("Validate = %v, want an error about %s", err, field)
				}
				if _, err := Marshal(a); err == nil {
					t.Fatal("Marshal wrote it")
				}
				if c.xmllint {
					if err := xmllint(t, unchecked(t, a)); err == nil {
						t.Fatal("xmllint accepts it: the case proves nothing about the schema")
					}
				}
			})
		}
	}
	for name, tm := range map[string]Time{
		"year 1000":   at(1000, utc),
		"offset +14":  at(2024, time.FixedZone("", 14*3600)),
		"offset -14":  at(2024, time.FixedZone("", -14*3600)),
		"year 9999":   at(9999, utc),
		"offset 5:45": at(2024, time.FixedZone("NPT", 5*3600+45*60)),
	} {
		a := flood()
		a.Sent = tm
		a.Infos[0].Effective, a.Infos[0].Onset, a.Infos[0].Expires = Time{}, Time{}, Time{}
		doc, err := Marshal(a)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		xmllintValid(t, doc)
	}
}

// TestCheckRefusesAContentWithAnImpossibleDate: what the alerts service asks
// before an approval.
func TestCheckRefusesAContentWithAnImpossibleDate(t *testing.T) {
	c := published()
	zero := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Effective = &zero
	in := AlertInput{Domain: nimes, Messages: messages(alert.MsgTypeAlert), Content: c}
	if err := Check(in); err == nil || !strings.Contains(err.Error(), "effective") {
		t.Fatalf("Check = %v, want the effective date refused", err)
	}
	if _, err := Document(in); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Document = %v, want ErrInvalid", err)
	}
	a, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := xmllint(t, unchecked(t, a)); err == nil {
		t.Fatal("xmllint accepts the year 0000")
	}
}

func TestParseTimeRefusesWhatXsDateTimeRefuses(t *testing.T) {
	for _, s := range []string{"0000-10-17T14:30:00-00:00", "2024-10-17T14:30:00+15:00", "2024-10-17T14:30:00-14:01", "2024-02-30T14:30:00+01:00", "2024-10-17T14:30:00+01:60"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) accepted it", s)
		}
	}
	for _, s := range []string{"0001-10-17T14:30:00-00:00", "2024-10-17T14:30:00+14:00", "2024-10-17T14:30:00-14:00"} {
		if _, err := ParseTime(s); err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
		}
	}
}
