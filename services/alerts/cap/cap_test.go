package cap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// xmllintValid runs the official OASIS schema over doc. It fails rather than skips
// without xmllint: a CAP test that did not validate anything must not pass.
func xmllintValid(t *testing.T, doc []byte) {
	t.Helper()
	if err := xmllint(t, doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
}

// xmllint is the schema check itself (captest.Check, which this package's own tests
// cannot import): nil when the document validates.
func xmllint(t *testing.T, doc []byte) error {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not on PATH: install libxml2-utils (.ci/run installs it on CI)")
	}
	dir := t.TempDir()
	schema, f := filepath.Join(dir, "CAP-v1.2.xsd"), filepath.Join(dir, "alert.xml")
	if err := os.WriteFile(schema, Schema, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--noout", "--schema", schema, f).CombinedOutput(); err != nil {
		return fmt.Errorf("xmllint refuses the document: %v\n%s", err, out)
	}
	return nil
}

// sameAsShared: the copy of the schema kept with the code is the design's official
// one, when the shared data folder is there to compare (VIGIE_SHARED_DATA, or beside
// the repository on the development machine).
func TestSchemaIsTheOfficialOne(t *testing.T) {
	if !bytes.Contains(Schema, []byte(`targetNamespace = "`+Namespace+`"`)) {
		t.Fatalf("the embedded schema is not CAP 1.2's")
	}
	shared := os.Getenv("VIGIE_SHARED_DATA")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	b, err := os.ReadFile(filepath.Join(shared, "cap", "CAP-v1.2.xsd"))
	if err != nil {
		return // no shared folder beside this clone: the embedded copy is the reference
	}
	if !bytes.Equal(b, Schema) {
		t.Fatalf("CAP-v1.2.xsd differs from the shared data's official schema")
	}
}

var cest = time.FixedZone("CEST", 2*3600)

func sent() Time { return At(time.Date(2024, 10, 17, 14, 30, 0, 0, cest)) }

// flood is a valid alert of the commune of Nîmes, the base every variant changes.
func flood() Alert {
	s := sent()
	return Alert{
		Identifier: "vigie-30189-alert-0001",
		Sender:     "mairie@nimes.vigie.example",
		Sent:       s,
		Status:     "Actual",
		MsgType:    "Alert",
		Source:     "cellule de crise communale",
		Scope:      "Public",
		Codes:      []string{"FR-PCS"},
		Incidents:  "vigie-30189-inc-0042",
		Infos: []Info{{
			Language:      "fr-FR",
			Categories:    []string{"Met", "Safety"},
			Event:         "Crue rapide du Vistre",
			ResponseTypes: []string{"Shelter", "Avoid"},
			Urgency:       "Immediate",
			Severity:      "Severe",
			Certainty:     "Observed",
			Audience:      "population",
			EventCodes:    []NameValue{{"VIGIE", "flood"}},
			Effective:     s,
			Onset:         At(s.Add(30 * time.Minute)),
			Expires:       At(s.Add(6 * time.Hour)),
			SenderName:    "Mairie de Nîmes",
			Headline:      "Crue rapide : montez à l'étage",
			Description:   "Le Vistre déborde <rapidement> & les routes basses sont coupées.",
			Instruction:   "Ne prenez pas votre voiture. Rejoignez un étage.",
			Web:           "https://www.nimes.fr/crise",
			Contact:       "Mairie 04 66 76 70 01",
			Parameters:    []NameValue{{"vigilance", "rouge"}},
			Resources:     []Resource{{ResourceDesc: "carte", MimeType: "image/png", Size: 12345, URI: "https://www.nimes.fr/crise/carte.png"}},
			Areas:         []Area{{AreaDesc: "Nîmes", Geocodes: []NameValue{{"INSEE", "30189"}}}},
		}},
	}
}

func TestMarshalValidatesAgainstSchema(t *testing.T) {
	earlier := flood()
	variants := map[string]func(a *Alert){
		"alert": func(a *Alert) {},
		"update": func(a *Alert) {
			a.Identifier = "vigie-30189-alert-0002"
			a.MsgType = "Update"
			a.Sent = At(earlier.Sent.Add(time.Hour))
			a.References = FormatReferences([]Reference{earlier.Reference()})
		},
		"cancel": func(a *Alert) {
			a.Identifier = "vigie-30189-alert-0003"
			a.MsgType = "Cancel"
			a.Sent = At(earlier.Sent.Add(2 * time.Hour))
			a.References = FormatReferences([]Reference{earlier.Reference(), {a.Sender, "vigie-30189-alert-0002", At(earlier.Sent.Add(time.Hour))}})
			a.Note = "Fin de l'alerte"
			a.Infos = nil
		},
		"exercise": func(a *Alert) {
			a.Status = "Exercise"
			a.Infos[0].Headline = "EXERCICE " + a.Infos[0].Headline
		},
		"utc": func(a *Alert) { a.Sent = At(a.Sent.UTC()) },
		"restricted": func(a *Alert) {
			a.Scope = "Restricted"
			a.Restriction = "cellule de crise seulement"
		},
		"private": func(a *Alert) {
			a.Scope = "Private"
			a.Addresses = `prefecture@gard.example "PC crise"`
		},
		"two languages": func(a *Alert) {
			en := a.Infos[0]
			en.Language = "en-GB"
			en.Event = "Flash flood of the Vistre"
			en.Headline = "Flash flood: go upstairs"
			en.Description = "The Vistre is overflowing; low roads are closed."
			en.Instruction = "Do not drive. Go to an upper floor."
			a.Infos = append(a.Infos, en)
		},
		"polygon": func(a *Alert) {
			a.Infos[0].Areas = []Area{{
				AreaDesc: "Quartiers bas du Vistre",
				Polygons: []string{Polygon([][2]float64{{43.8180, 4.3500}, {43.8180, 4.3800}, {43.8000, 4.3800}, {43.8000, 4.3500}})},
				Altitude: "0",
				Ceiling:  "150.5",
			}}
		},
		"circle": func(a *Alert) {
			a.Infos[0].Areas = []Area{{AreaDesc: "Autour du pont", Circles: []string{"43.8367,4.3601 2.5"}}}
		},
		"geocodes": func(a *Alert) {
			a.Infos[0].Areas = []Area{{AreaDesc: "Nîmes et Caissargues", Geocodes: []NameValue{{"INSEE", "30189"}, {"INSEE", "30062"}}}}
		},
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			a := flood()
			change(&a)
			doc, err := Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			xmllintValid(t, doc)
			if bytes.Contains(doc, []byte("Z<")) || bytes.Contains(doc, []byte("+00:00<")) {
				t.Errorf("a time is written with Z or +00:00, CAP wants -00:00:\n%s", doc)
			}
			back, err := Parse(bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			a.XMLName = back.XMLName
			assertSameAlert(t, a, back)
		})
	}
}

// assertSameAlert compares field by field, times by instant and offset: reflect.DeepEqual
// alone would also compare *time.Location pointers, which two parses never share.
func assertSameAlert(t *testing.T, want, got Alert) {
	t.Helper()
	norm := func(a Alert) Alert {
		fix := func(x *Time) {
			if !x.IsZero() {
				_, off := x.Zone()
				x.Time = x.In(time.FixedZone("", off))
			}
		}
		fix(&a.Sent)
		infos := make([]Info, len(a.Infos))
		copy(infos, a.Infos)
		for i := range infos {
			fix(&infos[i].Effective)
			fix(&infos[i].Onset)
			fix(&infos[i].Expires)
		}
		a.Infos = infos
		return a
	}
	w, g := norm(want), norm(got)
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("alert changed on the way through XML:\nwant %+v\ngot  %+v", w, g)
	}
	if want.Sent.String() != got.Sent.String() {
		t.Fatalf("sent %s came back as %s", want.Sent, got.Sent)
	}
}

func TestOASISAmberAlertRoundTrip(t *testing.T) {
	path := filepath.Join("testdata", "oasis-example-amber-alert.xml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	xmllintValid(t, src) // the example itself, so a failure below is ours
	a, err := Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if a.Identifier != "KAR0-0306112239-SW" || len(a.Infos) != 2 || a.Infos[1].Event != "Abducción de Niño" ||
		a.Infos[0].Areas[0].Geocodes[0] != (NameValue{"SAME", "006037"}) || a.Sent.String() != "2003-06-11T22:39:00-07:00" {
		t.Fatalf("example read wrongly: %+v", a)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("the OASIS example does not pass Validate: %v", err)
	}
	doc, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	xmllintValid(t, doc)
	again, err := Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	assertSameAlert(t, a, again)
}

func TestTimeFormat(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 10, 17, 12, 30, 0, 0, time.UTC), "2024-10-17T12:30:00-00:00"},
		{time.Date(2024, 10, 17, 14, 30, 5, 999_000_000, cest), "2024-10-17T14:30:05+02:00"},
		{time.Date(2003, 6, 11, 22, 39, 0, 0, time.FixedZone("PDT", -7*3600)), "2003-06-11T22:39:00-07:00"},
	} {
		if got := At(c.in).String(); got != c.want {
			t.Errorf("At(%v) = %s, want %s", c.in, got, c.want)
		}
		back, err := ParseTime(c.want)
		if err != nil || !back.Equal(c.in.Truncate(time.Second)) {
			t.Errorf("ParseTime(%s) = %v, %v", c.want, back, err)
		}
	}
	for _, bad := range []string{"2024-10-17T12:30:00Z", "2024-10-17T12:30:00", "2024-10-17T12:30:00.5+02:00", "2024-10-17 12:30:00+02:00", "2024-13-17T12:30:00+02:00"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) accepted a time CAP refuses", bad)
		}
	}
	// A document with a Z time is refused by Parse, as by the schema.
	doc := strings.Replace(string(mustMarshal(t, flood())), "2024-10-17T14:30:00+02:00</sent>", "2024-10-17T12:30:00Z</sent>", 1)
	if _, err := Parse(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), "numeric offset") {
		t.Errorf("Parse of a Z time: %v", err)
	}
}

func mustMarshal(t *testing.T, a Alert) []byte {
	t.Helper()
	doc, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestValidateRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		change func(a *Alert)
		want   string
	}{
		"no sent":                    {func(a *Alert) { a.Sent = Time{} }, "sent: required"},
		"expires before sent":        {func(a *Alert) { a.Infos[0].Expires = At(a.Sent.Add(-time.Minute)); a.Infos[0].Effective = Time{} }, "info[0].expires"},
		"expires before effective":   {func(a *Alert) { a.Infos[0].Effective = At(a.Infos[0].Expires.Add(time.Hour)) }, "before effective"},
		"update without references":  {func(a *Alert) { a.MsgType = "Update" }, "references"},
		"cancel without references":  {func(a *Alert) { a.MsgType = "Cancel" }, "references"},
		"alert with references":      {func(a *Alert) { a.References = FormatReferences([]Reference{a.Reference()}) }, "an Alert is a new message"},
		"malformed references":       {func(a *Alert) { a.MsgType = "Update"; a.References = "a,b,2024-10-17T12:30:00Z" }, "numeric offset"},
		"identifier with space":      {func(a *Alert) { a.Identifier = "alert 1" }, "identifier"},
		"identifier with comma":      {func(a *Alert) { a.Identifier = "alert,1" }, "identifier"},
		"sender with <":              {func(a *Alert) { a.Sender = "a<b" }, "sender"},
		"identifier with &":          {func(a *Alert) { a.Identifier = "a&b" }, "identifier"},
		"bad status":                 {func(a *Alert) { a.Status = "Real" }, "status"},
		"restricted, no restriction": {func(a *Alert) { a.Scope = "Restricted" }, "restriction"},
		"private, no addresses":      {func(a *Alert) { a.Scope = "Private" }, "addresses"},
		"alert without info":         {func(a *Alert) { a.Infos = nil }, "at least one info"},
		"bad category":               {func(a *Alert) { a.Infos[0].Categories = []string{"Flood"} }, "category[0]"},
		"open polygon":               {func(a *Alert) { a.Infos[0].Areas[0].Polygons = []string{"43.8,4.3 43.9,4.3 43.9,4.4 43.8,4.4"} }, "not closed"},
		"triangle of 3 points":       {func(a *Alert) { a.Infos[0].Areas[0].Polygons = []string{"43.8,4.3 43.9,4.3 43.8,4.3"} }, "at least 4"},
		"point out of range":         {func(a *Alert) { a.Infos[0].Areas[0].Circles = []string{"143.8,4.3 2"} }, "out of range"},
		"NaN latitude":               {func(a *Alert) { a.Infos[0].Areas[0].Circles = []string{"NaN,4.3 2"} }, "not \"lat,lon\""},
		"infinite longitude":         {func(a *Alert) { a.Infos[0].Areas[0].Circles = []string{"43.8,+Inf 2"} }, "not \"lat,lon\""},
		"hexadecimal point":          {func(a *Alert) { a.Infos[0].Areas[0].Circles = []string{"0x1p5,4.3 2"} }, "not \"lat,lon\""},
		"NaN radius":                 {func(a *Alert) { a.Infos[0].Areas[0].Circles = []string{"43.8,4.3 NaN"} }, "radius"},
		"infinite radius":            {func(a *Alert) { a.Infos[0].Areas[0].Circles = []string{"43.8,4.3 Inf"} }, "radius"},
		"NaN in a polygon":           {func(a *Alert) { a.Infos[0].Areas[0].Polygons = []string{"43.8,4.3 NaN,4.3 43.9,4.4 43.8,4.3"} }, "not \"lat,lon\""},
		"no area description":        {func(a *Alert) { a.Infos[0].Areas[0].AreaDesc = "" }, "areaDesc"},
		"bad language":               {func(a *Alert) { a.Infos[0].Language = "fr_FR" }, "language"},
	} {
		t.Run(name, func(t *testing.T) {
			a := flood()
			c.change(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate = %v, want an error about %q", err, c.want)
			}
			if _, err := Marshal(a); err == nil {
				t.Fatal("Marshal wrote an invalid alert")
			}
		})
	}
}

func TestReferences(t *testing.T) {
	refs := []Reference{
		{"mairie@nimes.vigie.example", "vigie-30189-alert-0001", sent()},
		{"pref30@interieur.example", "FR-ALERT-77", At(time.Date(2024, 10, 17, 12, 0, 0, 0, time.UTC))},
	}
	s := FormatReferences(refs)
	want := "mairie@nimes.vigie.example,vigie-30189-alert-0001,2024-10-17T14:30:00+02:00 pref30@interieur.example,FR-ALERT-77,2024-10-17T12:00:00-00:00"
	if s != want {
		t.Fatalf("FormatReferences = %s\nwant %s", s, want)
	}
	back, err := ParseReferences(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || FormatReferences(back) != s || !back[1].Sent.Equal(refs[1].Sent.Time) {
		t.Fatalf("ParseReferences = %+v", back)
	}
	for _, bad := range []string{"a,b", "a,b,c,d", ",b,2024-10-17T12:00:00-00:00", "a,b,yesterday"} {
		if _, err := ParseReferences(bad); err == nil {
			t.Errorf("ParseReferences(%q) accepted it", bad)
		}
	}
}

func TestPolygonClosesRing(t *testing.T) {
	open := [][2]float64{{43.818, 4.35}, {43.818, 4.38}, {43.8, 4.38}}
	if got, want := Polygon(open), "43.818,4.35 43.818,4.38 43.8,4.38 43.818,4.35"; got != want {
		t.Fatalf("Polygon = %s, want %s", got, want)
	}
	if len(open) != 3 {
		t.Fatal("Polygon changed its argument")
	}
	closed := append(open, open[0])
	if got := Polygon(closed); strings.Count(got, " ") != 3 {
		t.Fatalf("Polygon closed an already closed ring again: %s", got)
	}
	if err := checkPolygon(Polygon(open)); err != nil {
		t.Fatal(err)
	}
}

func TestMarshalFeed(t *testing.T) {
	updated := time.Date(2024, 10, 17, 15, 30, 0, 0, cest)
	f := Feed{
		ID:      "https://vigie.example/cap/30189/feed.atom",
		Title:   "Alertes de Nîmes",
		Updated: updated,
		Link:    "https://vigie.example/cap/30189/feed.atom",
		Entries: []Entry{
			{ID: "urn:vigie:alert:a1", Title: "Crue rapide du Vistre", Updated: updated, Summary: "Montez à l'étage & attendez", Link: "https://vigie.example/cap/alerts/a1.xml"},
			{ID: "urn:vigie:alert:a0", Title: "Orages", Updated: updated.Add(-time.Hour), Link: "https://vigie.example/cap/alerts/a0.xml"},
		},
	}
	doc, err := MarshalFeed(f)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  string   `xml:"author>name"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Summary string `xml:"summary"`
			Link    struct {
				Rel  string `xml:"rel,attr"`
				Type string `xml:"type,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(doc, &got); err != nil {
		t.Fatalf("feed is not well-formed Atom: %v\n%s", err, doc)
	}
	if got.ID != f.ID || got.Title != f.Title || got.Updated != "2024-10-17T13:30:00Z" || got.Author != f.Title || len(got.Entries) != 2 {
		t.Fatalf("feed read back as %+v\n%s", got, doc)
	}
	e := got.Entries[0]
	if e.ID != "urn:vigie:alert:a1" || e.Summary != "Montez à l'étage & attendez" || e.Link.Href != "https://vigie.example/cap/alerts/a1.xml" || e.Link.Type != "application/cap+xml" || e.Link.Rel != "alternate" {
		t.Fatalf("entry read back as %+v", e)
	}
	if _, err := time.Parse(time.RFC3339, got.Entries[1].Updated); err != nil {
		t.Fatalf("entry updated is not RFC 3339: %v", err)
	}
	if _, err := Parse(bytes.NewReader(doc)); err == nil {
		t.Error("Parse read an Atom feed as a CAP alert")
	}
	// xmllint without a schema: well-formedness by a second parser.
	if bin, err := exec.LookPath("xmllint"); err == nil {
		p := filepath.Join(t.TempDir(), "feed.atom")
		os.WriteFile(p, doc, 0o644)
		if out, err := exec.Command(bin, "--noout", p).CombinedOutput(); err != nil {
			t.Fatalf("xmllint: %v\n%s", err, out)
		}
	}

	for name, bad := range map[string]func(f *Feed){
		"no id":            func(f *Feed) { f.ID = "" },
		"relative id":      func(f *Feed) { f.ID = "feed-30189" },
		"no title":         func(f *Feed) { f.Title = "" },
		"no updated":       func(f *Feed) { f.Updated = time.Time{} },
		"entry no updated": func(f *Feed) { f.Entries = append([]Entry(nil), f.Entries...); f.Entries[1].Updated = time.Time{} },
	} {
		g := f
		bad(&g)
		if _, err := MarshalFeed(g); err == nil {
			t.Errorf("%s: MarshalFeed accepted it", name)
		}
	}
}

// The schema check is real: the same document with a Z time or its elements out of
// order is refused by xmllint, so a passing variant above means something.
func TestSchemaCheckRefusesInvalid(t *testing.T) {
	doc := string(mustMarshal(t, flood()))
	for name, bad := range map[string]string{
		"Z time":       strings.Replace(doc, "+02:00</sent>", "Z</sent>", 1),
		"out of order": strings.Replace(doc, "<status>Actual</status>\n  <msgType>Alert</msgType>", "<msgType>Alert</msgType>\n  <status>Actual</status>", 1),
	} {
		if bad == doc {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		if err := xmllint(t, []byte(bad)); err == nil {
			t.Errorf("%s: xmllint accepted an invalid document", name)
		}
	}
}
