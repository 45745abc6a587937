package dashboard_test

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"vigie/events/labels"
	"vigie/graph/dashboard"
	"vigie/graph/dashboard/modules"
	"vigie/policies"
)

// The committed generated modules are what the generator writes from
// vigie/events/labels and policies/policy.csv today.
func TestTheGeneratedModulesAreUpToDate(t *testing.T) {
	want, err := modules.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range want {
		got, err := fs.ReadFile(dashboard.Files(), "assets/"+name)
		if err != nil {
			t.Errorf("%s: %v: run scripts/generate-dashboard", name, err)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("assets/%s is stale: run scripts/generate-dashboard (or go run ./graph/dashboard/modules/gen)", name)
		}
	}
}

// generated are the files the generator writes: the only ones allowed to hold the
// labels and the permissions.
var generated = map[string]bool{"assets/" + modules.LabelsFile: true, "assets/" + modules.PermissionsFile: true}

// notCopies are literals equal to a label that say something else: file, literal.
var notCopies = map[[2]string]string{
	{"assets/app.js", "échec"}:    "a count of failed sends, « 2 échecs », not a channel's state",
	{"index.html", "crue rapide"}: "an example of CAP's free-text event, in the alert form's placeholder",
}

// copies lists the literals of a dashboard file that repeat a label or a permission,
// and the notCopies it met.
func copies(name string, src []byte) (out []string, excused [][2]string) {
	words := map[string]string{} // lower-cased label -> where it comes from
	values := map[string]bool{}  // lower-cased values and keys, which a label equal to one cannot be told from
	for _, s := range labels.Sets() {
		for _, e := range s.Entries() {
			values[strings.ToLower(e.Value)] = true
			values[strings.ToLower(s.Key(e.Value))] = true
		}
	}
	for _, s := range labels.Sets() {
		enum := s.Enum
		if enum == "" {
			enum = "role"
		}
		for _, e := range s.Entries() {
			for _, l := range []string{e.Label, e.Plural} {
				if l = strings.ToLower(l); l != "" && !values[l] {
					words[l] = "the label of " + enum + " " + e.Value
				}
			}
		}
	}
	for _, p := range policies.Vocabulary() {
		words[p.Object+":"+p.Action] = "a permission of policies/policy.csv"
	}
	for _, lit := range literals(name, src) {
		w := strings.ToLower(strings.TrimSpace(lit))
		if from, ok := words[w]; ok {
			if _, fine := notCopies[[2]string{name, w}]; fine {
				excused = append(excused, [2]string{name, w})
			} else {
				out = append(out, `"`+lit+`" (`+from+`)`)
			}
		}
	}
	return out, excused
}

// literals are a file's strings: a script's string literals and template parts, a
// page's text and attribute values.
func literals(name string, src []byte) []string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		s := &jsScanner{src: string(src)}
		s.code(false)
		return s.lits
	case ".html":
		var out []string
		for _, m := range regexp.MustCompile(`>([^<]+)<`).FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
		for _, tag := range regexp.MustCompile(`<[^>]+>`).FindAllString(string(src), -1) {
			for _, m := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(tag, -1) {
				out = append(out, m[1])
			}
		}
		return out
	}
	return nil
}

// jsScanner collects a script's string literals and the text parts of its template
// literals (the expressions of a template are scanned as code), skipping comments.
// Regular expression literals are taken for code: the dashboard's hold no quote.
type jsScanner struct {
	src  string
	i    int
	lits []string
}

func (s *jsScanner) code(untilBrace bool) {
	depth := 0
	for s.i < len(s.src) {
		rest := s.src[s.i:]
		switch c := s.src[s.i]; {
		case c == '\'' || c == '"':
			s.quoted(c)
		case c == '`':
			s.template()
		case strings.HasPrefix(rest, "//"):
			if n := strings.IndexByte(rest, '\n'); n >= 0 {
				s.i += n
			} else {
				s.i = len(s.src)
			}
		case strings.HasPrefix(rest, "/*"):
			if n := strings.Index(rest[2:], "*/"); n >= 0 {
				s.i += n + 4
			} else {
				s.i = len(s.src)
			}
		case c == '{':
			depth++
			s.i++
		case c == '}':
			s.i++
			if depth == 0 && untilBrace {
				return
			}
			depth--
		default:
			s.i++
		}
	}
}

func (s *jsScanner) quoted(q byte) {
	var b strings.Builder
	for s.i++; s.i < len(s.src) && s.src[s.i] != q && s.src[s.i] != '\n'; s.i++ {
		if s.src[s.i] == '\\' && s.i+1 < len(s.src) {
			s.i++
		}
		b.WriteByte(s.src[s.i])
	}
	s.i++
	s.lits = append(s.lits, b.String())
}

func (s *jsScanner) template() {
	var b strings.Builder
	for s.i++; s.i < len(s.src); {
		switch {
		case s.src[s.i] == '\\' && s.i+1 < len(s.src):
			b.WriteByte(s.src[s.i+1])
			s.i += 2
		case s.src[s.i] == '`':
			s.i++
			s.lits = append(s.lits, b.String())
			return
		case strings.HasPrefix(s.src[s.i:], "${"):
			s.lits = append(s.lits, b.String())
			b.Reset()
			s.i += 2
			s.code(true)
		default:
			b.WriteByte(s.src[s.i])
			s.i++
		}
	}
	s.lits = append(s.lits, b.String())
}

// The dashboard holds the French labels and the role permissions in the generated
// modules only: no script or page repeats one.
func TestTheDashboardHasNoOtherCopyOfTheLabelsOrThePermissions(t *testing.T) {
	root := dashboard.Files()
	var names []string
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !generated[p] && (path.Ext(p) == ".js" || path.Ext(p) == ".html") {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if len(names) < 5 {
		t.Fatalf("only %v to check", names)
	}
	met := map[[2]string]bool{}
	for _, p := range names {
		b, err := fs.ReadFile(root, p)
		if err != nil {
			t.Fatal(err)
		}
		found, excused := copies(p, b)
		for _, c := range found {
			t.Errorf("%s copies %s: take it from labels.js (labels.gen.js) or auth.js (permissions.gen.js)", p, c)
		}
		for _, k := range excused {
			met[k] = true
		}
	}
	for k := range notCopies {
		if !met[k] {
			t.Errorf("notCopies excuses %q in %s, which is not there any more", k[1], k[0])
		}
	}
}

// The check itself finds copies in strings, templates and pages, and not in comments.
func TestTheCopyCheckFindsCopies(t *testing.T) {
	js := "// l'exemple : 'maire' in a comment is no copy\n" +
		"const R = { rac: 'coordinateur (RAC)', x: \"Centres d'hébergement\" };\n" +
		"const t = `${a ? 'Engagée' : `${b} Crue rapide `}`; /* 'Clos' */\n" +
		"const P = ['incident:report'];\n" +
		"const k = ['SMS', 'FR_ALERT', 'mayor', 'avalanche'];\n"
	got, _ := copies("assets/x.js", []byte(js))
	want := []string{"coordinateur (RAC)", "Centres d'hébergement", "Engagée", " Crue rapide ", "incident:report"}
	if len(got) != len(want) {
		t.Fatalf("copies = %q, want %q", got, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], `"`+w+`"`) {
			t.Errorf("copies[%d] = %q, want %q", i, got[i], w)
		}
	}
	html := `<p title="Sévère">x</p><option value="OTHER">Autre</option><p>Le maire approuve</p>`
	if got, _ := copies("index.html", []byte(html)); len(got) != 2 {
		t.Errorf("copies in a page = %q, want Sévère and Autre", got)
	}
}
