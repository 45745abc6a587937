package graph

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"vigie/graph/generated"
)

// The operations people actually send must pass the gateway's limits: a complexity or
// depth limit sized without them refused the README's first example (cost 1680 for a
// limit of 1000). These tests read the operations from where they are written, the
// dashboard's scripts and the README, so that neither can grow past the limits unseen.

// jsLiteral is a string literal of a script: its text, and for a template literal its
// parts (text between the ${…} substitutions, and the substitutions' expressions).
type jsLiteral struct {
	text  []string // len(exprs)+1 pieces
	exprs []string
}

// jsLiterals reads the string literals of a script ('…', "…" and `…`, with the
// literals nested inside a template's ${…} left in its expressions), skipping comments. It knows no regular
// expression literal: a script whose regular expressions hold a quote would be misread,
// which the tests below notice (an operation they expect goes missing).
func jsLiterals(src string) []jsLiteral {
	var out []jsLiteral
	i, nest := 0, 0           // nest: how many templates' ${…} the scanner is inside
	var code func(until byte) // reads code up to an unmatched until (0: the end)
	var template func() jsLiteral
	quoted := func(q byte) string {
		var b strings.Builder
		for i++; i < len(src) && src[i] != q; i++ {
			if src[i] == '\\' && i+1 < len(src) {
				i++
			}
			b.WriteByte(src[i])
		}
		i++
		return b.String()
	}
	template = func() jsLiteral {
		lit := jsLiteral{}
		var b strings.Builder
		for i++; i < len(src) && src[i] != '`'; i++ {
			switch {
			case src[i] == '\\' && i+1 < len(src):
				i++
				b.WriteByte(src[i])
			case strings.HasPrefix(src[i:], "${"):
				lit.text = append(lit.text, b.String())
				b.Reset()
				i += 2
				start := i
				nest++
				code('}')
				nest--
				lit.exprs = append(lit.exprs, strings.TrimSpace(src[start:i]))
			default:
				b.WriteByte(src[i])
			}
		}
		i++
		lit.text = append(lit.text, b.String())
		return lit
	}
	code = func(until byte) {
		depth := 0
		for i < len(src) {
			c := src[i]
			switch {
			case strings.HasPrefix(src[i:], "//"):
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case strings.HasPrefix(src[i:], "/*"):
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					i = len(src)
				} else {
					i += end + 4
				}
			case c == '\'' || c == '"':
				if q := quoted(c); nest == 0 {
					out = append(out, jsLiteral{text: []string{q}})
				}
			case c == '`':
				if l := template(); nest == 0 {
					out = append(out, l)
				}
			case c == '{':
				depth++
				i++
			case c == until && depth == 0:
				return
			case c == '}':
				depth--
				i++
			default:
				i++
			}
		}
	}
	code(0)
	return out
}

// dashboardOperations are the GraphQL operations of the dashboard's scripts, spelled
// out. The convention the scripts follow, and this reads: an operation is a string
// literal that starts with query, mutation, subscription or "{"; a substitution ${X}
// inside it is
//   - a constant of the script, const X = '…' or `…` (itself spelled out), or
//     ${X.join(', ')} of a constant array of strings;
//   - a local const X = a ? `…` : `…`: each literal of its initializer is a variant;
//   - the parameter of const f = (X) => `…`: each constant or literal that a call f(…)
//     passes is a variant.
//
// Any other substitution fails the test: the limits cannot be checked on an operation
// that cannot be spelled out.
func dashboardOperations(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("dashboard/static/assets/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboard script: %v", err)
	}
	ops := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for name, op := range scriptOperations(t, filepath.Base(f), string(raw)) {
			ops[name] = op
		}
	}
	return ops
}

var (
	operationStart = regexp.MustCompile(`^\s*((query|mutation|subscription)\b|\{)`)
	constDecl      = regexp.MustCompile(`\bconst (\w+) = `)
	arrowDecl      = regexp.MustCompile(`\bconst (\w+) = \((\w+)\) =>`)
	joinExpr       = regexp.MustCompile(`^(\w+)\.join\('([^']*)'\)$`)
)

func scriptOperations(t *testing.T, file, src string) map[string]string {
	t.Helper()
	lits := jsLiterals(src)
	// Every literal of an initializer, by the constant's name, in the order written:
	// the literals between "const X = " and the statement's end.
	inits := map[string][][]jsLiteral{}
	for _, m := range constDecl.FindAllStringSubmatchIndex(src, -1) {
		name := src[m[2]:m[3]]
		end := statementEnd(src, m[1])
		inits[name] = append(inits[name], jsLiterals(src[m[1]:end]))
	}
	// The arguments of the calls of each one-parameter arrow function, by parameter.
	params := map[string][]string{}
	for _, m := range arrowDecl.FindAllStringSubmatch(src, -1) {
		fn, param := m[1], m[2]
		for _, call := range regexp.MustCompile(`\b`+fn+`\(([^()]*)\)`).FindAllStringSubmatch(src, -1) {
			for _, piece := range strings.FieldsFunc(call[1], func(r rune) bool { return r == '?' || r == ':' }) {
				params[param] = append(params[param], strings.TrimSpace(piece))
			}
		}
	}
	var spell func(lit jsLiteral, depth int) []string
	var value func(expr string, depth int) []string
	value = func(expr string, depth int) []string {
		if depth > 10 {
			t.Fatalf("%s: substitutions nested too deep at %q", file, expr)
		}
		if expr == "''" || expr == `""` {
			return []string{""}
		}
		if m := joinExpr.FindStringSubmatch(expr); m != nil {
			if defs := inits[m[1]]; len(defs) == 1 {
				var items []string
				for _, l := range defs[0] {
					items = append(items, spell(l, depth+1)...)
				}
				return []string{strings.Join(items, m[2])}
			}
		}
		if defs := inits[expr]; len(defs) > 0 {
			var vs []string
			for _, d := range defs {
				for _, l := range d {
					vs = append(vs, spell(l, depth+1)...)
				}
			}
			if len(vs) > 0 {
				return vs
			}
		}
		if args, ok := params[expr]; ok {
			var vs []string
			for _, a := range args {
				if a == "''" || a == `""` || inits[a] != nil {
					vs = append(vs, value(a, depth+1)...)
				}
			}
			if len(vs) > 0 {
				return vs
			}
		}
		t.Fatalf("%s: cannot spell out the substitution ${%s} (see dashboardOperations)", file, expr)
		return nil
	}
	spell = func(lit jsLiteral, depth int) []string {
		out := []string{lit.text[0]}
		for k, e := range lit.exprs {
			var next []string
			for _, prefix := range out {
				for _, v := range value(e, depth) {
					next = append(next, prefix+v+lit.text[k+1])
				}
			}
			out = next
		}
		return out
	}
	ops := map[string]string{}
	for _, l := range lits {
		if !operationStart.MatchString(l.text[0]) {
			continue
		}
		for _, op := range spell(l, 0) {
			ops[file+": "+strings.Join(strings.Fields(op), " ")] = op
		}
	}
	return ops
}

// statementEnd is the offset of the ";" that ends the statement starting at from,
// outside literals and brackets: the scripts end their statements with one.
func statementEnd(src string, from int) int {
	depth := 0
	for i := from; i < len(src); i++ {
		switch c := src[i]; c {
		case '\'', '"', '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ';':
			if depth <= 0 {
				return i
			}
		}
	}
	return len(src)
}

// readmeOperations are the GraphQL operations the README shows: ```graphql blocks, the
// query of every curl -d '{"query":…}' body, and code spans that start with "{ ".
func readmeOperations(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	ops := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(src, -1) {
		ops["README graphql block: "+strings.Join(strings.Fields(m[1]), " ")] = m[1]
	}
	for _, m := range regexp.MustCompile(`-d '(\{[^']*\})'`).FindAllStringSubmatch(src, -1) {
		var body struct{ Query string }
		if err := json.Unmarshal([]byte(m[1]), &body); err != nil || body.Query == "" {
			t.Fatalf("README: a curl -d body that is no GraphQL request: %s (%v)", m[1], err)
		}
		ops["README curl: "+body.Query] = body.Query
	}
	for _, m := range regexp.MustCompile("`(\\{ [^`]*\\})`").FindAllStringSubmatch(src, -1) {
		ops["README code span: "+m[1]] = m[1]
	}
	return ops
}

// variables gives each variable of op a value of its type, so that the cost functions
// see their arguments (a cost function whose arguments do not decode falls back to
// gqlgen's default, which would understate a list's cost).
func variables(schema *ast.Schema, op *ast.OperationDefinition) map[string]any {
	vars := map[string]any{}
	var value func(t *ast.Type) any
	value = func(t *ast.Type) any {
		if t.Elem != nil {
			return []any{value(t.Elem)}
		}
		switch t.NamedType {
		case "String":
			return "dep:30"
		case "ID":
			return "id-1"
		case "Int":
			return 1
		case "Float":
			return 1.0
		case "Boolean":
			return true
		case "Time":
			return "2026-11-27T03:00:00Z"
		}
		if def := schema.Types[t.NamedType]; def != nil && def.Kind == ast.Enum {
			return def.EnumValues[0].Name
		}
		return map[string]any{}
	}
	for _, v := range op.VariableDefinitions {
		vars[v.Variable] = value(v.Type)
	}
	return vars
}

type measure struct{ cost, depth, fields int }

// measured validates src against the schema and measures its one operation as the
// gateway's limits do.
func measured(t *testing.T, name, src string) measure {
	t.Helper()
	es := generated.NewExecutableSchema(generated.Config{Complexity: listCosts()})
	doc, errs := gqlparser.LoadQuery(es.Schema(), src)
	if len(errs) > 0 {
		t.Fatalf("%s: not valid against the schema: %v\n%s", name, errs, src)
	}
	if len(doc.Operations) != 1 {
		t.Fatalf("%s: %d operations, want 1", name, len(doc.Operations))
	}
	op := doc.Operations[0]
	return measure{
		cost:   complexity.Calculate(context.Background(), es, op, variables(es.Schema(), op)),
		depth:  depth(op.SelectionSet, 0),
		fields: expanded(op.SelectionSet, map[*ast.FragmentDefinition]int{}, 1<<30),
	}
}

func defaultLimits() Config {
	var c Config
	c.setDefaults()
	return c
}

func TestEveryDashboardAndReadmeOperationPassesTheLimits(t *testing.T) {
	dash, readme := dashboardOperations(t), readmeOperations(t)
	// The spelling out is checked on operations the scripts are known to send: a
	// misread script (a quote in a regular expression) would lose them silently.
	for _, want := range []string{"query Board(", "overview(domain: $d, first: 1000)", "query Alerts(", "pendingApprovals", "replay(domain: $d, at: $at)",
		"securityJournal(domain: $d, first: 1000)", "subscription($d: String!) { boardChanged", "mutation($in: DraftAlertInput!, $c: ID)", "ALERT_EXTRA"} {
		found := false
		for name := range dash {
			found = found || strings.Contains(name, want) && want != "ALERT_EXTRA" || want == "ALERT_EXTRA" && strings.Contains(name, "countsKnown")
		}
		if !found {
			t.Errorf("the dashboard's operations hold none with %q: the scripts were misread", want)
		}
	}
	if len(dash) < 30 {
		t.Errorf("%d dashboard operations found, the scripts send more than 30", len(dash))
	}
	if !slices.ContainsFunc(slices.Collect(maps.Keys(readme)), func(k string) bool {
		return strings.Contains(k, `incidents(domain: \"dep:30\")`) || strings.Contains(k, `incidents(domain: "dep:30")`)
	}) {
		t.Errorf("the README's first query was not found in %v", slices.Collect(maps.Keys(readme)))
	}
	limits := defaultLimits()
	largest, largestName := 0, ""
	for _, set := range []map[string]string{dash, readme} {
		for name, src := range set {
			m := measured(t, name, src)
			if m.cost > largest {
				largest, largestName = m.cost, name
			}
			if m.cost > limits.MaxCost || m.depth > limits.MaxDepth || m.fields > limits.MaxCost {
				t.Errorf("%s: cost %d, depth %d, %d fields: over the limits (cost and fields %d, depth %d)", name, m.cost, m.depth, m.fields, limits.MaxCost, limits.MaxDepth)
			}
		}
	}
	t.Logf("largest cost %d of %d: %s", largest, limits.MaxCost, largestName)
}
