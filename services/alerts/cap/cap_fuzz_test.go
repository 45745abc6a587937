package cap_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"vigie/services/alerts/cap"
	"vigie/services/alerts/cap/captest"
)

// CAP documents come from outside (a neighbouring authority's feed, a message read
// back), and so do the times and references inside them. The fuzz targets below hold
// the parsers to: never panic; what parses and validates marshals, reads back the
// same, and the official schema accepts it (Validate refuses what xmllint would);
// what does not validate does not marshal either.

// nimesAlert is a valid alert as Vigie writes them, a seed for the fuzzer.
func nimesAlert(t testing.TB) []byte {
	cest := time.FixedZone("CEST", 2*3600)
	sent := cap.At(time.Date(2026, 9, 14, 4, 30, 0, 0, cest))
	a := cap.Alert{
		Identifier: "vigie-30189-al-1-v1", Sender: cap.Sender("dep:30/com:30189"), Sent: sent,
		Status: "Actual", MsgType: "Update", Scope: "Public", Codes: []string{"FR-PCS"},
		References: cap.FormatReferences([]cap.Reference{{Sender: cap.Sender("dep:30/com:30189"), Identifier: "vigie-30189-al-1-v0", Sent: cap.At(sent.Add(-time.Hour))}}),
		Infos: []cap.Info{{
			Language: "fr-FR", Categories: []string{"Met"}, Event: "Crue soudaine", ResponseTypes: []string{"Shelter"},
			Urgency: "Immediate", Severity: "Severe", Certainty: "Observed", Expires: cap.At(sent.Add(6 * time.Hour)),
			SenderName: "Mairie de Nîmes", Headline: "Crue du Cadereau : montez à l'étage",
			Description: "Le Cadereau d'Uzès déborde <vite> & monte.\r\nRestez chez vous.",
			Parameters:  []cap.NameValue{{ValueName: "vigilance", Value: "rouge"}},
			Areas: []cap.Area{{AreaDesc: "Nîmes, route d'Uzès", Polygons: []string{cap.Polygon([][2]float64{{43.845, 4.34}, {43.85, 4.355}, {43.838, 4.362}})},
				Circles: []string{"43.84,4.35 2.5"}, Geocodes: []cap.NameValue{{ValueName: "INSEE", Value: "30189"}}, Altitude: "120.5", Ceiling: "300"}},
		}},
	}
	doc, err := cap.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func FuzzParse(f *testing.F) {
	oasis, err := os.ReadFile("testdata/oasis-example-amber-alert.xml")
	if err != nil {
		f.Fatal(err)
	}
	vigie := nimesAlert(f)
	f.Add(oasis)
	f.Add(vigie)
	f.Add(bytes.Replace(vigie, []byte("Update"), []byte("Alert"), 1)) // an Alert with references: invalid
	f.Add(bytes.Replace(vigie, []byte("-00:00"), []byte("Z"), 1))
	f.Add([]byte(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><sent>0000-01-01T00:00:00+15:00</sent></alert>`))
	f.Add([]byte(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1"><identifier>x</identifier></alert>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><alert/>`))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY x "y">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&x;</alert>`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, err := cap.Parse(bytes.NewReader(doc))
		if err != nil {
			return
		}
		if a.Validate() != nil {
			if out, err := cap.Marshal(a); err == nil {
				t.Fatalf("Marshal wrote an alert Validate refuses:\n%s", out)
			}
			return
		}
		out, err := cap.Marshal(a)
		if err != nil {
			t.Fatalf("a valid alert does not marshal: %v\n%s", err, doc)
		}
		b, err := cap.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("what Marshal wrote does not parse: %v\n%s", err, out)
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("what Marshal wrote does not validate: %v\n%s", err, out)
		}
		if again, err := cap.Marshal(b); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("read back and written again, the document changed (%v):\n%s\n----\n%s", err, out, again)
		}
		if ra, rb := a.Reference(), b.Reference(); ra.Sender != rb.Sender || ra.Identifier != rb.Identifier || !ra.Sent.Equal(rb.Sent.Time) {
			t.Fatalf("the message's reference changed: %v, then %v", ra, rb)
		}
		if err := captest.Check(t, out); err != nil {
			t.Fatalf("Validate accepts what the schema refuses: %v", err)
		}
	})
}

// FuzzValidate builds alerts field by field (a byte-level mutation of a document
// rarely keeps one valid), so that what Validate accepts is held to the schema often:
// every alert it accepts marshals, the official schema accepts the document (xmllint),
// and the document reads back as the same alert.
func FuzzValidate(f *testing.F) {
	f.Add("vigie-30189-al-1-v1", "vigie.dep30.com30189", "2026-09-14T04:30:00+02:00", "Actual", "Alert", "Public", "",
		"fr-FR", "Met", "Crue soudaine", "Immediate", "Severe", "Observed", "2026-09-14T10:30:00+02:00",
		"https://www.nimes.fr/crise", "Crue : montez à l'étage", "Nîmes", "43.845,4.34 43.85,4.355 43.838,4.362 43.845,4.34",
		"43.84,4.35 2.5", "120.5", "300", int64(12345))
	f.Add("a", "b", "2026-09-14T04:30:00-00:00", "Exercise", "Update", "Private", "b,a0,2026-09-14T04:00:00-00:00",
		"oc-x-gascon", "CBRNE", "e", "Unknown", "Unknown", "Unknown", "", "urn:x", "<&>\r\n", "x", "", "0,0 0", ".5", "", int64(0))
	f.Fuzz(func(t *testing.T, identifier, sender, sent, status, msgType, scope, references, language, category, event,
		urgency, severity, certainty, expires, web, headline, areaDesc, polygon, circle, altitude, ceiling string, size int64) {
		a := cap.Alert{Identifier: identifier, Sender: sender, Status: status, MsgType: msgType, Scope: scope,
			Restriction: "cellule de crise", Addresses: "mairie", References: references}
		var err error
		if a.Sent, err = cap.ParseTime(sent); err != nil {
			return
		}
		in := cap.Info{Language: language, Categories: []string{category}, Event: event, Urgency: urgency, Severity: severity,
			Certainty: certainty, Web: web, Headline: headline,
			Resources: []cap.Resource{{ResourceDesc: "carte", MimeType: "image/png", Size: size, URI: web}},
			Areas:     []cap.Area{{AreaDesc: areaDesc, Altitude: altitude, Ceiling: ceiling}}}
		if expires != "" {
			if in.Expires, err = cap.ParseTime(expires); err != nil {
				return
			}
		}
		if polygon != "" {
			in.Areas[0].Polygons = []string{polygon}
		}
		if circle != "" {
			in.Areas[0].Circles = []string{circle}
		}
		a.Infos = []cap.Info{in}
		out, err := cap.Marshal(a)
		if err != nil {
			if a.Validate() == nil {
				t.Fatalf("a valid alert does not marshal: %v", err)
			}
			return
		}
		if err := captest.Check(t, out); err != nil {
			t.Fatalf("Validate accepts what the schema refuses: %v", err)
		}
		b, err := cap.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("what Marshal wrote does not parse: %v\n%s", err, out)
		}
		if again, err := cap.Marshal(b); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("read back and written again, the document changed (%v):\n%s\n----\n%s", err, out, again)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-09-14T04:30:00-00:00", "2026-09-14T06:30:00+02:00", "2026-09-14T04:30:00+00:00", "2026-09-14T04:30:00Z",
		"2026-09-14T04:30:00.5+02:00", "0000-01-01T00:00:00+00:00", "2026-02-30T00:00:00+01:00", "2026-09-14T04:30:00+14:01",
		"2026-09-14T04:30:00-14:00", "9999-12-31T23:59:59+14:00", "2026-09-14T24:00:00+00:00", "2026-09-14T04:30:60+00:00",
		"2026-09-14T04:30:00+05:60", "", "2026-09-14 04:30:00+00:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := cap.ParseTime(s)
		if err != nil {
			return
		}
		// CAP's shape, to the character: nothing else parses.
		if len(s) != 25 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
			s[19] != '+' && s[19] != '-' || s[22] != ':' || strings.HasPrefix(s, "0000") {
			t.Fatalf("ParseTime accepted %q", s)
		}
		if _, off := tm.Zone(); off > 14*3600 || off < -14*3600 {
			t.Fatalf("ParseTime(%q) has an offset of %d s, beyond ±14:00", s, off)
		}
		// Written back as it was read (UTC as "-00:00"), naming the same instant.
		want := s
		if strings.HasSuffix(s, "+00:00") {
			want = s[:19] + "-00:00"
		}
		if got := tm.String(); got != want {
			t.Fatalf("ParseTime(%q).String() = %q", s, got)
		}
		back, err := cap.ParseTime(tm.String())
		if err != nil || !back.Equal(tm.Time) {
			t.Fatalf("%q read back from %q as %v, %v", tm.String(), s, back, err)
		}
	})
}

func FuzzParseReferences(f *testing.F) {
	for _, s := range []string{
		"mairie@nimes,vigie-30189-al-1-v0,2026-09-14T04:30:00-00:00",
		"a,b,2026-09-14T04:30:00+02:00 c,d,2026-09-14T05:30:00-00:00",
		"  a,b,2026-09-14T04:30:00+02:00\n\t", "a,b", "a,,2026-09-14T04:30:00+02:00", ",b,2026-09-14T04:30:00+02:00",
		"a,b,c,2026-09-14T04:30:00+02:00", "a,b,2026-09-14T04:30:00Z", "", "a\u00a0b,c,2026-09-14T04:30:00+02:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := cap.ParseReferences(s)
		if err != nil {
			return
		}
		if len(refs) != len(strings.Fields(s)) {
			t.Fatalf("ParseReferences(%q) read %d references", s, len(refs))
		}
		for _, r := range refs {
			if r.Sender == "" || r.Identifier == "" || strings.ContainsAny(r.Sender+r.Identifier, ", \t\n\r") {
				t.Fatalf("ParseReferences(%q) read %+v", s, r)
			}
		}
		// Written and read again: the same references.
		back, err := cap.ParseReferences(cap.FormatReferences(refs))
		if err != nil || len(back) != len(refs) {
			t.Fatalf("%q read back as %v, %v", cap.FormatReferences(refs), back, err)
		}
		for i := range refs {
			if back[i].Sender != refs[i].Sender || back[i].Identifier != refs[i].Identifier || !back[i].Sent.Equal(refs[i].Sent.Time) {
				t.Fatalf("reference %d changed: %+v, then %+v", i, refs[i], back[i])
			}
		}
	})
}
