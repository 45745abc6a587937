package policies

import (
	"slices"
	"strings"
	"testing"

	"vigie/events"
)

// The whole matrix, written out by hand from the issue rather than computed
// from policy.csv, so that a mistake in either shows as a disagreement.
//
// Each role's grant is on its natural domain: the commune roles and admin on
// Nîmes (dep:30/com:30189), the prefecture on the Gard (dep:30). Each cell is
// four outcomes for a request on, in order:
//
//  1. Nîmes, the own commune                  dep:30/com:30189
//  2. Alès, another commune of the Gard       dep:30/com:30007
//  3. the Gard itself, a prefecture-level act dep:30
//  4. Istres, a commune of another département dep:13/com:13047
//
// A is allowed, - is refused.
const matrix = `
object         action             mayor  rac    operator field  observer prefecture admin
incident       report             A---   A---   A---     A---   ----     ----       ----
incident       qualify            A---   A---   ----     ----   ----     AAA-       ----
incident       log                A---   A---   A---     ----   ----     AAA-       ----
incident       escalate           A---   ----   ----     ----   ----     AAA-       ----
incident       stabilize          A---   A---   ----     ----   ----     AAA-       ----
incident       close              A---   A---   ----     ----   ----     AAA-       ----
incident       reopen             A---   A---   ----     ----   ----     AAA-       ----
incident       read               A---   A---   A---     A---   A---     AAA-       ----
resource       register           A---   A---   ----     ----   ----     ----       ----
resource       engage             A---   A---   ----     ----   ----     ----       ----
resource       release            A---   A---   ----     ----   ----     ----       ----
resource       set_status         A---   A---   A---     A---   ----     ----       ----
resource       set_occupancy      A---   A---   A---     A---   ----     ----       ----
resource       read               A---   A---   A---     A---   A---     AAA-       ----
reinforcement  request            A---   A---   ----     ----   ----     ----       ----
reinforcement  decide             ----   ----   ----     ----   ----     AAA-       ----
reinforcement  dispatch           ----   ----   ----     ----   ----     AAA-       ----
reinforcement  arrive             A---   A---   ----     ----   ----     ----       ----
reinforcement  release            A---   A---   ----     ----   ----     AAA-       ----
reinforcement  read               A---   A---   A---     ----   A---     AAA-       ----
alert          draft              A---   A---   ----     ----   ----     ----       ----
alert          submit             A---   A---   ----     ----   ----     ----       ----
alert          approve            A---   ----   ----     ----   ----     ----       ----
alert          reject             A---   ----   ----     ----   ----     ----       ----
alert          cancel             A---   A---   ----     ----   ----     ----       ----
alert          validate_fr_alert  ----   ----   ----     ----   ----     AAA-       ----
alert          refuse_fr_alert    ----   ----   ----     ----   ----     AAA-       ----
alert          read               A---   A---   A---     A---   A---     AAA-       ----
resident       register           A---   A---   A---     ----   ----     ----       ----
resident       erase              A---   ----   ----     ----   ----     ----       ----
role           grant              ----   ----   ----     ----   ----     ----       A---
role           revoke             ----   ----   ----     ----   ----     ----       A---
role           confirm            ----   ----   ----     ----   ----     AAA-       A---
role           read               ----   ----   ----     ----   ----     AAA-       A---
timeline       read               A---   A---   A---     ----   A---     AAA-       ----
journal        read               ----   ----   ----     ----   ----     ----       A---
`

var matrixDomains = [4]string{"dep:30/com:30189", "dep:30/com:30007", "dep:30", "dep:13/com:13047"}

// naturalDomain is where each role is granted in the matrix.
func naturalDomain(r string) string {
	if r == events.RolePrefecture {
		return "dep:30"
	}
	return "dep:30/com:30189"
}

type matrixRow struct {
	Permission
	cells map[string]string // role → four outcomes
}

// parseMatrix reads the table above; a malformed table fails the test.
func parseMatrix(t *testing.T) []matrixRow {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(matrix), "\n")
	header := strings.Fields(lines[0])
	if len(header) != 2+len(events.Roles) || header[0] != "object" || header[1] != "action" {
		t.Fatalf("matrix header %q: want object, action and one column per role", lines[0])
	}
	roles := header[2:]
	for _, r := range events.Roles {
		if !slices.Contains(roles, r) {
			t.Fatalf("matrix has no column for role %s", r)
		}
	}
	var rows []matrixRow
	for n, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != len(header) {
			t.Fatalf("matrix line %d %q: %d fields, want %d", n+2, line, len(f), len(header))
		}
		row := matrixRow{Permission{f[0], f[1]}, map[string]string{}}
		for i, cell := range f[2:] {
			if len(cell) != len(matrixDomains) || strings.Trim(cell, "A-") != "" {
				t.Fatalf("matrix line %d: cell %q is not four of A or -", n+2, cell)
			}
			row.cells[roles[i]] = cell
		}
		rows = append(rows, row)
	}
	return rows
}

func TestMatrixCoversTheWholeVocabulary(t *testing.T) {
	rows := map[Permission]int{}
	for _, row := range parseMatrix(t) {
		rows[row.Permission]++
	}
	for _, p := range Vocabulary() {
		if rows[p] != 1 {
			t.Errorf("%s %s appears %d times in the matrix, want once", p.Object, p.Action, rows[p])
		}
		delete(rows, p)
	}
	for p := range rows {
		t.Errorf("the matrix has %s %s, which is not in the vocabulary", p.Object, p.Action)
	}
}

// TestMatrix checks every command × every role × the four domains, with the
// grant coming from the event log, then from a development token: both must
// agree with the matrix.
func TestMatrix(t *testing.T) {
	a := newAuthorizer(t)
	for _, r := range events.Roles {
		if err := a.Grant("log-"+r, r, naturalDomain(r)); err != nil {
			t.Fatal(err)
		}
	}
	sources := []struct {
		name      string
		principal func(r string) Principal
	}{
		{"log grant", func(r string) Principal { return Principal{Subject: "log-" + r} }},
		{"token grant", func(r string) Principal {
			return Principal{Subject: "tok-" + r, Grants: []Grant{{Role: r, Domain: naturalDomain(r)}}}
		}},
	}
	rows := parseMatrix(t)
	checked := 0
	for _, src := range sources {
		for _, row := range rows {
			for _, r := range events.Roles {
				for i, domain := range matrixDomains {
					want := row.cells[r][i] == 'A'
					got := allowed(t, a, src.principal(r), domain, row.Object, row.Action)
					if got != want {
						t.Errorf("%s: %s %s %s on %s: allowed = %v, want %v", src.name, r, row.Object, row.Action, domain, got, want)
					}
					checked++
				}
			}
		}
	}
	if want := 2 * len(Vocabulary()) * len(events.Roles) * len(matrixDomains); checked != want {
		t.Fatalf("checked %d cases, want %d", checked, want)
	}
}
