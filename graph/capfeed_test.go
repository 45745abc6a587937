package graph_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"vigie/events/labels/frenchtest"
	"vigie/services/alerts/cap"
)

// get fetches a public document: its status, body and content type.
func get(t *testing.T, u string) (int, []byte, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header.Get("Content-Type")
}

// atomFeed is what the tests read of the Atom feed.
type atomFeed struct {
	Title  string `xml:"title"`
	Author struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Summary string `xml:"summary"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

// capFeed fetches Nîmes' feed, well-formed, and the CAP document of every entry,
// each validated with xmllint.
func capFeed(t *testing.T, base string) ([]byte, atomFeed) {
	t.Helper()
	code, body, ct := get(t, base+"/cap/30189/feed.atom")
	if code != 200 || !strings.HasPrefix(ct, "application/atom+xml") {
		t.Fatalf("feed: HTTP %d %s: %s", code, ct, body)
	}
	var f atomFeed
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Fatalf("feed: %v\n%s", err, body)
	}
	// What a resident's application shows of the feed and of its documents is
	// French: the commune by its name, no identifier, no English.
	text := []string{f.Title, f.Author.Name}
	for _, e := range f.Entries {
		var doc struct {
			Infos []struct {
				SenderName  string `xml:"senderName"`
				Event       string `xml:"event"`
				Headline    string `xml:"headline"`
				Description string `xml:"description"`
				Instruction string `xml:"instruction"`
				AreaDesc    string `xml:"area>areaDesc"`
			} `xml:"info"`
		}
		if err := xml.Unmarshal(validateCAP(t, base+e.Link.Href), &doc); err != nil {
			t.Fatal(err)
		}
		text = append(text, e.Title, e.Summary)
		for _, i := range doc.Infos {
			text = append(text, i.SenderName, i.Event, i.Headline, i.Description, i.Instruction, i.AreaDesc)
		}
	}
	frenchtest.Check(t, "Nîmes' feed and its CAP documents", strings.Join(text, "\n"))
	if f.Title != "Alertes de Nîmes" || f.Author.Name != "Vigie — Nîmes" {
		t.Errorf("feed titled %q by %q, want « Alertes de Nîmes » by « Vigie — Nîmes »", f.Title, f.Author.Name)
	}
	return body, f
}

// TestARevisionIsNeverPublicBeforeItsApproval: once an alert went out, revising
// it, submitting the revision and the mayor's rejection of it change neither its
// CAP document nor the commune's feed (headline, description, severity stay the
// published ones); the approval of the next revision publishes it as an Update
// referencing the first message. Every document served validates with xmllint.
func TestARevisionIsNeverPublicBeforeItsApproval(t *testing.T) {
	env, _ := startAlertStack(t)
	rac := env.Token("rac-nimes", "rac", nimes)
	mayor := env.Token("maire-nimes", "mayor", nimes)
	in := floodAlert(nimes, "CAP_FEED")
	a := alertOf(t, env.Do(t, rac, draftMutation, map[string]any{"in": in}), "draftAlert")
	id := map[string]any{"id": a.ID}

	// Nothing public before the approval: a French 404, and no entry in the feed.
	for _, step := range []string{"draft", "submitted"} {
		if step == "submitted" {
			must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
		}
		code, body, _ := get(t, env.URL+a.CapURL)
		if code != http.StatusNotFound || !strings.Contains(string(body), "Aucun message public pour cette alerte") {
			t.Errorf("CAP of a %s alert: HTTP %d %q, want 404 « Aucun message public pour cette alerte »", step, code, body)
		}
		if _, f := capFeed(t, env.URL); len(f.Entries) != 0 {
			t.Errorf("feed of a %s alert: %+v", step, f.Entries)
		}
	}
	must(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id))
	waitAlert(t, env, mayor, a.ID, func(v alertView) bool { return v.Status == "SENT" })
	published := validateCAP(t, env.URL+a.CapURL)
	publishedFeed, f := capFeed(t, env.URL)
	if len(f.Entries) != 1 || f.Entries[0].Title != in["headline"] || f.Entries[0].Summary != in["description"] {
		t.Fatalf("feed after the approval: %+v", f.Entries)
	}
	for _, want := range []string{"<headline>" + in["headline"].(string), "<severity>Severe</severity>", "<msgType>Alert</msgType>"} {
		if !strings.Contains(string(published), want) {
			t.Fatalf("published document lacks %q:\n%s", want, published)
		}
	}

	// The revision: a new headline, description and severity.
	revision := floodAlert(nimes, "CAP_FEED")
	revision["headline"] = "Crue du Vistre : évacuez immédiatement"
	revision["description"] = "Le Vistre a rompu la digue sud."
	revision["severity"] = "EXTREME"
	unchanged := func(step string) {
		t.Helper()
		if doc := validateCAP(t, env.URL+a.CapURL); !bytes.Equal(doc, published) {
			t.Errorf("after %s, the public CAP document changed:\n%s\nwas\n%s", step, doc, published)
		}
		if feed, _ := capFeed(t, env.URL); !bytes.Equal(feed, publishedFeed) {
			t.Errorf("after %s, the feed changed:\n%s\nwas\n%s", step, feed, publishedFeed)
		}
	}
	must(t, env.Do(t, rac, `mutation($id: ID!, $in: DraftAlertInput!){ updateAlert(id: $id, input: $in){ id } }`, map[string]any{"id": a.ID, "in": revision}))
	unchanged("the revision")
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	unchanged("its submission")
	must(t, env.Do(t, mayor, `mutation($id: ID!){ rejectAlert(id: $id, reason: "Pas d'évacuation décidée"){ id } }`, id))
	unchanged("its rejection")

	// Revised again and approved: the Update, with references, is what is public.
	must(t, env.Do(t, rac, `mutation($id: ID!, $in: DraftAlertInput!){ updateAlert(id: $id, input: $in){ id } }`, map[string]any{"id": a.ID, "in": revision}))
	unchanged("the second revision")
	must(t, env.Do(t, rac, `mutation($id: ID!){ submitAlert(id: $id){ id } }`, id))
	must(t, env.Do(t, mayor, `mutation($id: ID!){ approveAlert(id: $id){ id } }`, id))
	update := validateCAP(t, env.URL+a.CapURL)
	parsed, err := cap.Parse(bytes.NewReader(update))
	if err != nil {
		t.Fatal(err)
	}
	refs, _ := cap.ParseReferences(parsed.References)
	if parsed.MsgType != "Update" || len(refs) != 1 || refs[0].Identifier != a.ID+".1" {
		t.Errorf("after the approval: %s referencing %+v, want an Update referencing %s.1", parsed.MsgType, refs, a.ID)
	}
	if info := parsed.Infos[0]; info.Headline != revision["headline"] || info.Description != revision["description"] || info.Severity != "Extreme" {
		t.Errorf("the Update carries %q / %q / %s, want the approved revision", info.Headline, info.Description, info.Severity)
	}
	if _, f := capFeed(t, env.URL); len(f.Entries) != 1 || f.Entries[0].Title != revision["headline"] || f.Entries[0].Summary != revision["description"] ||
		!strings.HasSuffix(f.Entries[0].ID, a.ID+".2") {
		t.Errorf("feed after the revision's approval: %+v", f.Entries)
	}
}

// TestTheCAPEndpointsAnswerInFrench: what is not there is said in French.
func TestTheCAPEndpointsAnswerInFrench(t *testing.T) {
	env, _ := startAlertStack(t)
	for path, want := range map[string]string{
		"/cap/alerts/no-such-alert.xml": "Aucun message public pour cette alerte",
		"/cap/alerts/no-such-alert":     "Document introuvable",
		"/cap/301/feed.atom":            "Aucune commune n'a ce code",
		"/cap/30189/other.txt":          "Document introuvable",
		"/cap/nothing":                  "Document introuvable",
	} {
		code, body, _ := get(t, env.URL+path)
		if code != http.StatusNotFound || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: HTTP %d %q, want 404 « %s »", path, code, body, want)
		}
	}
	// An empty feed is still a valid one.
	if _, f := capFeed(t, env.URL); len(f.Entries) != 0 {
		t.Errorf("a commune without alerts: %+v", f.Entries)
	}
}
