package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"vigie/events"
	"vigie/events/input"
	"vigie/events/role"
	"vigie/graph/auth"
	"vigie/graph/resolver"
	"vigie/policies"
	"vigie/services/alerts/alert"
	"vigie/services/alerts/resident"
	"vigie/services/guard"
	"vigie/services/incidents/incident"
	"vigie/services/resources/reinforcement"
	"vigie/services/resources/resource"
	rolegrant "vigie/services/roles/role"
)

// English is what must not be read in a message a person gets from the API: English
// words, and a Go package's prefix ("alert: ") at the start of a message. French words
// that contain them ("invalide") are not matched: the words are whole.
var english = regexp.MustCompile(`(?i)\b(not|forbidden|invalid|already|unknown|must|cannot|pending|approval|only|the|is|needs|retry|unavailable|found|required|denied|error|failed|too)\b|^[a-z]+: `)

// domainErrors are the refusals of the aggregates, which the services pass on as
// the message of INVALID_INPUT and REJECTED answers.
var domainErrors = []error{
	events.ErrInvalidInput, events.ErrNotFound,
	incident.ErrNotFound, incident.ErrAlreadyReported, incident.ErrIncidentClosed, incident.ErrNotQualified,
	incident.ErrAlreadyEscalated, incident.ErrEscalationRole, incident.ErrDirectedByPrefecture, incident.ErrNotDirector,
	incident.ErrAlreadyStabilized, incident.ErrNotClosed, incident.ErrUnknownEntry, incident.ErrDuplicateEntry, incident.ErrInvalidInput,
	resource.ErrInvalidInput, resource.ErrInvalidResourceID, resource.ErrInvalidIncidentID, resource.ErrInvalidDomain,
	resource.ErrInvalidName, resource.ErrUnknownKind, resource.ErrUnknownStatus, resource.ErrCapacity, resource.ErrNegativeOccupancy,
	resource.ErrNotFound, resource.ErrIncidentNotFound, resource.ErrIncidentOfAnotherCommune, resource.ErrAlreadyRegistered,
	resource.ErrAlreadyEngaged, resource.ErrNotAvailable, resource.ErrNotEngaged, resource.ErrUseEngageRelease,
	resource.ErrNotAShelter, resource.ErrShelterFull, resource.ErrOccupiedShelter,
	reinforcement.ErrInvalidInput, reinforcement.ErrInvalidRequestID, reinforcement.ErrInvalidIncidentID, reinforcement.ErrInvalidDomain,
	reinforcement.ErrUnknownKind, reinforcement.ErrQuantity, reinforcement.ErrReasonRequired, reinforcement.ErrInvalidText,
	reinforcement.ErrNotFound, reinforcement.ErrIncidentNotFound, reinforcement.ErrIncidentOfAnotherCommune, reinforcement.ErrAlreadyRequested,
	reinforcement.ErrPrefectureOnly, reinforcement.ErrCommuneOnly, reinforcement.ErrCommuneOrPrefecture, reinforcement.ErrWrongStep,
	alert.ErrNotFound, alert.ErrAlreadyDrafted, alert.ErrAlertClosed, alert.ErrAwaitingApproval, alert.ErrBeingDispatched,
	alert.ErrNotDraft, alert.ErrNotPending, alert.ErrApproverRole, alert.ErrSelfApproval, alert.ErrNoFrAlertRequest,
	alert.ErrFrAlertRole, alert.ErrNotExpired, alert.ErrExpiresBeforeApproval, alert.ErrNotApproved, alert.ErrAlreadyDispatching,
	alert.ErrNotDispatching, alert.ErrNoFrAlertToConfirm, alert.ErrNoCancellation, alert.ErrInvalidInput,
	resident.ErrNotFound, resident.ErrAlreadyRegistered, resident.ErrAlreadyErased, resident.ErrNoConsent,
	resident.ErrMissingContact, resident.ErrErased, resident.ErrUnreadable, resident.ErrInvalidInput,
	rolegrant.ErrAlreadyGranted, rolegrant.ErrNotGranted, rolegrant.ErrSelfRevokeAdmin, rolegrant.ErrNotAdmin,
	rolegrant.ErrMissingTime, rolegrant.ErrSelfGrant, rolegrant.ErrOwnRequest,
	role.ErrUnknownRole, role.ErrInvalidDomain, role.ErrRoleNotForDomain, role.ErrInvalidSubject,
}

// inputProblems are the field problems every domain shares (events/input).
func inputProblems() []error {
	fam := incident.ErrInvalidInput
	var out []error
	add := func(err error) {
		if err != nil {
			out = append(out, err)
		}
	}
	_, err := input.Text(fam, "title", "\xff", 1, 5, false)
	add(err)
	_, err = input.Text(fam, "title", "", 1, 5, false)
	add(err)
	_, err = input.Text(fam, "title", "abcdefgh", 0, 5, false)
	add(err)
	_, err = input.Text(fam, "title", "a\x01", 1, 5, false)
	add(err)
	add(input.ID(fam, "id", "", 8))
	add(input.ID(fam, "id", "123456789", 8))
	add(input.ID(fam, "id", "a b", 8))
	add(input.Actor(fam, events.Actor{}, time.Now()))
	add(input.Actor(fam, events.Actor{Subject: "u", Role: "roi"}, time.Now()))
	add(input.Actor(fam, events.Actor{Subject: "u", Role: events.RoleRAC}, time.Time{}))
	add(input.Point(fam, "location", 91, 0))
	add(input.Point(fam, "location", 0, 181))
	add(input.CommuneDomain(fam, "dep:30"))
	add(input.CommuneDomain(fam, "dep:30/com:13047"))
	add(role.ValidSubject(""))
	add(role.ValidSubject("a b"))
	add(role.ValidGrant("roi", "dep:30"))
	add(role.ValidGrant("prefecture", "dep:30/com:30189"))
	return out
}

func TestAPIErrorMessagesAreFrench(t *testing.T) {
	var msgs []string
	for _, err := range append(domainErrors, inputProblems()...) {
		msgs = append(msgs, err.Error())
		// What the services send: the domain's words, or the guard's for the families
		// the gateway does not pass on.
		msgs = append(msgs, status.Convert(guard.Status(err)).Message())
	}
	for _, err := range []error{policies.ErrForbidden, context.DeadlineExceeded, context.Canceled, errors.New("panne")} {
		msgs = append(msgs, status.Convert(guard.Status(err)).Message())
	}
	msgs = append(msgs, resolver.MsgUnauthenticated, resolver.MsgForbidden, resolver.MsgNotFound, resolver.MsgTimeout,
		resolver.MsgConflict, resolver.MsgUnavailable, resolver.MsgInvalidDomain,
		tooComplex("operation has complexity 1680, which exceeds the limit of 1000"), tooComplex("anything else"),
		tooCostly(5, 3).Message)
	if len(msgs) < 2*len(domainErrors) {
		t.Fatalf("only %d messages", len(msgs))
	}
	for _, m := range msgs {
		if w := english.FindString(m); w != "" {
			t.Errorf("%q reads English (%q)", m, w)
		}
	}
}

// The refusals of the limits, through the gateway's handler: French words, stable
// codes and reasons.
func TestAbusiveQueriesAreRefusedInFrench(t *testing.T) {
	// Dev: introspection reaches twenty levels deep only there.
	h, err := New(Config{Auth: anyone{}, Dev: true, RateLimit: 1e6, RateBurst: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	board := `incidents(domain: "dep:30") { title status severity domain log { author text } resources { name status } }`
	aliases := func(n int, sel string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: %s", i, sel)
		}
		return b.String() + " }"
	}
	fullBoard := `incidents(domain: "dep:30") { id domain kind title severity status reportedAt location { lat lon } description directedByPrefecture
		log { id at author text corrects } resources { id domain kind name status incidentId capacity occupancy } }`
	for _, c := range []struct {
		name, query, reason, says string
	}{
		{"ten of the README's board", aliases(10, board), "COMPLEXITY_LIMIT_EXCEEDED", "opération trop complexe : elle coûte 16800, une requête peut coûter au plus 5500"},
		{"two whole boards", aliases(2, fullBoard), "COMPLEXITY_LIMIT_EXCEEDED", "opération trop complexe : elle coûte 10880"},
		{"thousands of aliases", aliases(3000, "me { subject }"), "COMPLEXITY_LIMIT_EXCEEDED", "opération trop complexe"},
		{"nested twenty deep", `{ __type(name:"Incident") { name ` + strings.Repeat("ofType { name ", 20) + strings.Repeat("} ", 20) + "} }", "", "requête trop imbriquée : au plus 15 niveaux"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"query": c.query})
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer t")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var ans struct {
				Data   json.RawMessage
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || len(ans.Errors) != 1 {
				t.Fatalf("%d %s: want one error", rec.Code, rec.Body)
			}
			e := ans.Errors[0]
			if e.Extensions["code"] != resolver.CodeInvalidInput || c.reason != "" && e.Extensions["reason"] != c.reason || !strings.HasPrefix(e.Message, c.says) {
				t.Errorf("got %q %v, want INVALID_INPUT %s saying %q", e.Message, e.Extensions, c.reason, c.says)
			}
			if w := english.FindString(e.Message); w != "" {
				t.Errorf("%q reads English (%q)", e.Message, w)
			}
		})
	}
	// The richest single board (every field of the département's incidents, their main
	// courante and resources) is no abuse.
	if m := measured(t, "the whole board", "{ "+fullBoard+" }"); m.cost > defaultLimits().MaxCost {
		t.Errorf("the whole board costs %d, over the limit %d", m.cost, defaultLimits().MaxCost)
	}
}

// anyone authenticates every token as an observer of the département: the limits
// refuse before anything is read.
type anyone struct{}

func (anyone) Authenticate(context.Context, string) (auth.Caller, error) {
	return auth.Caller{Principal: policies.Principal{Subject: "u-limits", Grants: []policies.Grant{{Role: "observer", Domain: "dep:30"}}}}, nil
}

// The gateway's own answers are written where they are returned: every string literal
// given to resolver.Error, refuse or refuseInit in the gateway's sources is read here
// (a new English message in any resolver file fails this test, not only those listed
// above).
func TestTheGatewaysLiteralMessagesAreFrench(t *testing.T) {
	files, err := filepath.Glob("resolver/*.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "gateway.go", "costs.go", "session.go", "capfeed.go")
	call := regexp.MustCompile(`(?:Error\(Code\w+|refuse\(w, [^,]+|refuseInit\(ctx), "((?:[^"\\]|\\.)*)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			seen++
			if english.MatchString(m[1]) {
				t.Errorf("%s: %q reads English", f, m[1])
			}
		}
	}
	if seen < 10 {
		t.Fatalf("read %d messages in the gateway's sources: the pattern no longer matches how they are written", seen)
	}
}
