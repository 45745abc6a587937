package policies

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/events"
	"vigie/events/role"
)

const (
	nimes    = "dep:30/com:30189"
	ales     = "dep:30/com:30007"
	gard     = "dep:30"
	istres   = "dep:13/com:13047"
	bouches  = "dep:13"
	subject  = "u-1"
	approve  = ActionApprove
	validate = ActionValidateFRAlert
)

func newAuthorizer(t *testing.T) *Authorizer {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func allowed(t *testing.T, a *Authorizer, p Principal, domain, object, action string) bool {
	t.Helper()
	err := a.Authorize(p, domain, object, action)
	if err != nil && !errors.Is(err, ErrForbidden) {
		t.Fatalf("Authorize(%s %s on %s) = %v, not wrapping ErrForbidden", object, action, domain, err)
	}
	return err == nil
}

func TestNothingIsAllowedWithoutAGrant(t *testing.T) {
	a := newAuthorizer(t)
	p := Principal{Subject: subject}
	for _, perm := range Vocabulary() {
		for _, d := range []string{nimes, gard, istres} {
			if allowed(t, a, p, d, perm.Object, perm.Action) {
				t.Errorf("%s %s on %s allowed without any grant", perm.Object, perm.Action, d)
			}
		}
	}
}

func TestAPrefectureGrantNeverCoversAnotherDepartement(t *testing.T) {
	a := newAuthorizer(t)
	if err := a.Grant("cod-1", events.RolePrefecture, "dep:30/*"); err != nil {
		t.Fatal(err)
	}
	p := Principal{Subject: "cod-1"}
	for _, d := range []string{nimes, ales, gard, "dep:30/*"} {
		if !allowed(t, a, p, d, ObjectIncident, ActionRead) {
			t.Errorf("prefecture of dep:30 refused reading incidents on %s", d)
		}
	}
	// dep:300 is no département (and a string prefix of nothing territorial);
	// the other codes are real départements that merely share a prefix.
	for _, d := range []string{bouches, istres, "dep:300/com:30012", "dep:300", "dep:3", "dep:2A/com:2A004", "dep:971/com:97101"} {
		if allowed(t, a, p, d, ObjectIncident, ActionRead) {
			t.Errorf("prefecture of dep:30 allowed to read incidents on %s", d)
		}
	}
	tok := Principal{Subject: "cod-2", Grants: []Grant{{Role: events.RolePrefecture, Domain: gard}}}
	for _, d := range []string{bouches, istres, "dep:300/com:30012"} {
		if allowed(t, a, tok, d, ObjectIncident, ActionRead) {
			t.Errorf("a token's prefecture grant on dep:30 allowed to read on %s", d)
		}
	}
}

func TestACommuneGrantNeverCoversItsDepartement(t *testing.T) {
	a := newAuthorizer(t)
	for _, r := range []string{events.RoleMayor, events.RoleObserver, events.RoleAdmin} {
		if err := a.Grant(subject, r, nimes); err != nil {
			t.Fatal(err)
		}
	}
	log := Principal{Subject: subject}
	tok := Principal{Subject: "u-2", Grants: []Grant{{events.RoleMayor, nimes}, {events.RoleObserver, nimes}, {events.RoleAdmin, nimes}}}
	for _, p := range []Principal{log, tok} {
		for _, perm := range Vocabulary() {
			for _, d := range []string{gard, "dep:30/*", ales} {
				if allowed(t, a, p, d, perm.Object, perm.Action) {
					t.Errorf("%s's commune grants allowed %s %s on %s", p.Subject, perm.Object, perm.Action, d)
				}
			}
		}
		if !allowed(t, a, p, nimes, ObjectAlert, approve) {
			t.Errorf("%s: the mayor of Nîmes may not approve Nîmes' alerts", p.Subject)
		}
	}
}

func TestGrantsFromTheLogAndFromTheTokenAddUp(t *testing.T) {
	a := newAuthorizer(t)
	if err := a.Grant(subject, events.RoleOperator, nimes); err != nil {
		t.Fatal(err)
	}
	p := Principal{Subject: subject, Grants: []Grant{{events.RoleObserver, ales}}}
	if !allowed(t, a, p, nimes, ObjectIncident, ActionLog) {
		t.Error("the log's operator grant was not honoured")
	}
	if !allowed(t, a, p, ales, ObjectIncident, ActionRead) {
		t.Error("the token's observer grant was not honoured")
	}
	if allowed(t, a, p, ales, ObjectIncident, ActionLog) {
		t.Error("the operator grant on Nîmes leaked to Alès")
	}
	if got, want := a.RolesIn(p, nimes), []string{"operator"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RolesIn(nîmes) = %v, want %v", got, want)
	}
	if got, want := a.RolesIn(p, ales), []string{"observer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RolesIn(alès) = %v, want %v", got, want)
	}
}

func TestATokenGrantThatDoesNotFitItsDomainGrantsNothing(t *testing.T) {
	a := newAuthorizer(t)
	p := Principal{Subject: subject, Grants: []Grant{
		{events.RolePrefecture, nimes}, // the State's role, never a commune's
		{"superuser", nimes},
		{events.RoleMayor, "dep:30/com:13047"},
	}}
	for _, perm := range Vocabulary() {
		if allowed(t, a, p, nimes, perm.Object, perm.Action) {
			t.Errorf("%s %s allowed by an invalid token grant", perm.Object, perm.Action)
		}
	}
	if got := a.RolesIn(p, nimes); len(got) != 0 {
		t.Errorf("RolesIn = %v from invalid grants", got)
	}
}

func TestRolesInCollectsEveryRoleOverTheDomain(t *testing.T) {
	a := newAuthorizer(t)
	must(t, a.Grant(subject, events.RoleObserver, gard))
	must(t, a.Grant(subject, events.RoleRAC, nimes))
	must(t, a.Grant(subject, events.RoleAdmin, nimes))
	must(t, a.Grant(subject, events.RoleField, ales))
	p := Principal{Subject: subject, Grants: []Grant{{events.RoleRAC, nimes}}}
	for domain, want := range map[string][]string{
		nimes:  {"admin", "observer", "rac"},
		ales:   {"field", "observer"},
		gard:   {"observer"},
		istres: nil,
		"bad":  nil,
	} {
		if got := a.RolesIn(p, domain); !reflect.DeepEqual(got, want) {
			t.Errorf("RolesIn(%s) = %v, want %v", domain, got, want)
		}
	}
	if got := a.RolesIn(Principal{Subject: "someone-else"}, nimes); got != nil {
		t.Errorf("RolesIn of another subject = %v", got)
	}
}

func TestRevokeTakesAwayOnlyTheRevokedGrant(t *testing.T) {
	a := newAuthorizer(t)
	p := Principal{Subject: subject}
	// The same role held on the département and on one of its communes: the
	// two grants overlap on the commune, and revoking either keeps the other.
	must(t, a.Grant(subject, events.RoleObserver, gard))
	must(t, a.Grant(subject, events.RoleObserver, nimes))
	must(t, a.Revoke(subject, events.RoleObserver, gard))
	if !allowed(t, a, p, nimes, ObjectIncident, ActionRead) {
		t.Error("revoking the département grant took away the commune grant")
	}
	if allowed(t, a, p, ales, ObjectIncident, ActionRead) || allowed(t, a, p, gard, ObjectIncident, ActionRead) {
		t.Error("the revoked département grant still holds")
	}

	must(t, a.Grant(subject, events.RoleObserver, gard))
	must(t, a.Revoke(subject, events.RoleObserver, nimes))
	for _, d := range []string{nimes, ales, gard} {
		if !allowed(t, a, p, d, ObjectIncident, ActionRead) {
			t.Errorf("revoking the commune grant took away the département grant on %s", d)
		}
	}
	must(t, a.Revoke(subject, events.RoleObserver, gard))
	for _, d := range []string{nimes, ales, gard} {
		if allowed(t, a, p, d, ObjectIncident, ActionRead) {
			t.Errorf("still allowed on %s after every grant was revoked", d)
		}
	}
}

func TestGrantAndRevokeAreIdempotent(t *testing.T) {
	a := newAuthorizer(t)
	p := Principal{Subject: subject}
	must(t, a.Grant(subject, events.RoleMayor, nimes))
	must(t, a.Grant(subject, events.RoleMayor, nimes))
	must(t, a.Revoke(subject, events.RoleMayor, nimes))
	if allowed(t, a, p, nimes, ObjectIncident, ActionRead) {
		t.Error("one revoke did not undo a grant applied twice")
	}
	must(t, a.Revoke(subject, events.RoleMayor, nimes))
	must(t, a.Revoke(subject, events.RoleRAC, ales))
}

func TestTheWildcardFormIsTheDepartement(t *testing.T) {
	a := newAuthorizer(t)
	must(t, a.Grant("cod-1", events.RolePrefecture, "dep:30/*"))
	must(t, a.Revoke("cod-1", events.RolePrefecture, gard))
	if allowed(t, a, Principal{Subject: "cod-1"}, nimes, ObjectIncident, ActionRead) {
		t.Error("a grant on dep:30/* survived a revoke on dep:30")
	}
}

func TestInvalidGrantsAreRefused(t *testing.T) {
	a := newAuthorizer(t)
	for _, c := range []struct {
		subject, role, domain string
		want                  error
	}{
		{"role:mayor", events.RoleMayor, nimes, ErrInvalidGrant},
		{"", events.RoleMayor, nimes, ErrInvalidGrant},
		{"a b", events.RoleMayor, nimes, ErrInvalidGrant},
		{strings.Repeat("x", 129), events.RoleMayor, nimes, ErrInvalidGrant},
		{subject, "root", nimes, ErrInvalidGrant},
		{subject, events.RoleMayor, "dep:30/com:13047", ErrInvalidDomain},
		{subject, events.RoleMayor, "", ErrInvalidDomain},
		{subject, events.RolePrefecture, nimes, ErrInvalidGrant},
	} {
		if err := a.Grant(c.subject, c.role, c.domain); !errors.Is(err, c.want) {
			t.Errorf("Grant(%q, %q, %q) = %v, want %v", c.subject, c.role, c.domain, err, c.want)
		}
	}
	if err := a.Grant(subject, events.RolePrefecture, nimes); !errors.Is(err, role.ErrRoleNotForDomain) {
		t.Errorf("prefecture on a commune: %v, want role.ErrRoleNotForDomain", err)
	}
}

func TestRoleSubjectsAreRefused(t *testing.T) {
	a := newAuthorizer(t)
	// A subject spelled like casbin's role would otherwise inherit the role's
	// permissions by name, with no grant at all.
	for _, r := range events.Roles {
		p := Principal{Subject: "role:" + r}
		for _, perm := range Vocabulary() {
			if allowed(t, a, p, nimes, perm.Object, perm.Action) {
				t.Errorf("subject %q allowed %s %s", p.Subject, perm.Object, perm.Action)
			}
		}
		if got := a.RolesIn(p, nimes); got != nil {
			t.Errorf("RolesIn(%q) = %v", p.Subject, got)
		}
	}
}

func TestAuthorizeRefusesWhatItCannotRead(t *testing.T) {
	a := newAuthorizer(t)
	must(t, a.Grant(subject, events.RoleMayor, nimes))
	p := Principal{Subject: subject}
	for _, c := range []struct{ domain, object, action string }{
		{"", ObjectIncident, ActionRead},
		{"dep:30/com:30189 ", ObjectIncident, ActionRead},
		{"dep:30/com:30189/*", ObjectIncident, ActionRead},
		{nimes, "incidents", ActionRead},
		{nimes, ObjectIncident, "READ"},
		{nimes, ObjectIncident, ""},
		{nimes, ObjectIncident, "*"},
		{nimes, "*", "*"},
	} {
		if allowed(t, a, p, c.domain, c.object, c.action) {
			t.Errorf("Authorize(%q, %q, %q) allowed", c.domain, c.object, c.action)
		}
	}
}

func TestARefusalNamesNothingOfOtherDomains(t *testing.T) {
	a := newAuthorizer(t)
	must(t, a.Grant(subject, events.RoleMayor, "dep:13/com:13047"))
	p := Principal{Subject: subject, Grants: []Grant{{events.RoleRAC, "dep:13/com:13001"}}}
	err := a.Authorize(p, nimes, ObjectAlert, approve)
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v", err)
	}
	for _, leak := range []string{"13", "mayor", "rac"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("refusal %q names %q", err, leak)
		}
	}
}

func TestTheValidateFRAlertRightIsThePrefecturesAlone(t *testing.T) {
	a := newAuthorizer(t)
	for _, r := range events.Roles {
		if r == events.RolePrefecture {
			continue
		}
		p := Principal{Subject: "u-" + r, Grants: []Grant{{r, nimes}}}
		if allowed(t, a, p, nimes, ObjectAlert, validate) {
			t.Errorf("%s may validate FR-Alert", r)
		}
	}
}

func TestAuthorizeIsSafeWhileGrantsChange(t *testing.T) {
	a := newAuthorizer(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 200 {
				d := []string{nimes, ales, gard}[i%3]
				r := []string{events.RoleObserver, events.RoleOperator}[i%2]
				_ = a.Grant(subject, r, d)
				_ = a.Revoke(subject, r, d)
			}
		})
		wg.Go(func() {
			for range 200 {
				_ = a.Authorize(Principal{Subject: subject}, nimes, ObjectIncident, ActionRead)
				_ = a.RolesIn(Principal{Subject: subject}, ales)
			}
		})
	}
	wg.Wait()
	for _, d := range []string{nimes, ales, gard} {
		if allowed(t, a, Principal{Subject: subject}, d, ObjectIncident, ActionRead) {
			t.Errorf("a grant survived on %s after every grant was revoked", d)
		}
	}
}

func TestThePolicyFileIsReadStrictly(t *testing.T) {
	for name, text := range map[string]string{
		"a grant line":             "g, u-1, role:mayor, dep:30/com:30189\n",
		"an unknown role":          "p, role:king, incident, read\n",
		"a role without prefix":    "p, mayor, incident, read\n",
		"an unknown object":        "p, role:mayor, incidents, read\n",
		"an unknown action":        "p, role:mayor, incident, delete\n",
		"a missing field":          "p, role:mayor, incident\n",
		"a permission given twice": "p, role:mayor, incident, read\np, role:mayor, incident, read\n",
	} {
		if _, err := parsePolicy(text); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("%s: parsePolicy = %v, want ErrInvalidPolicy", name, err)
		}
	}
	rules, err := parsePolicy(policyCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("policy.csv gives no permission")
	}
}

func TestValidDomain(t *testing.T) {
	for _, d := range []string{nimes, gard, "dep:30/*", "dep:2A/com:2A004"} {
		if err := ValidDomain(d); err != nil {
			t.Errorf("ValidDomain(%q) = %v", d, err)
		}
	}
	for _, d := range []string{"", "dep:300/com:30012", "dep:30/com:13047", "dep:30/"} {
		if err := ValidDomain(d); !errors.Is(err, ErrInvalidDomain) {
			t.Errorf("ValidDomain(%q) = %v, want ErrInvalidDomain", d, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAllowsAsksTheRolesPermissionsOnly(t *testing.T) {
	a := newAuthorizer(t)
	for _, c := range []struct {
		role, object, action string
		want                 bool
	}{
		{events.RoleMayor, ObjectAlert, ActionApprove, true},
		{events.RoleRAC, ObjectAlert, ActionApprove, false},
		{events.RolePrefecture, ObjectAlert, ActionValidateFRAlert, true},
		{events.RoleAdmin, ObjectRole, ActionGrant, true},
		{events.RoleAdmin, ObjectIncident, ActionRead, false},
		{"role:mayor", ObjectAlert, ActionApprove, false},
		{"king", ObjectAlert, ActionApprove, false},
		{events.RoleMayor, "alerts", ActionApprove, false},
	} {
		if got := a.Allows(c.role, c.object, c.action); got != c.want {
			t.Errorf("Allows(%q, %s, %s) = %v, want %v", c.role, c.object, c.action, got, c.want)
		}
	}
}

// TestGrantsAgreeWithASimpleModel runs random sequences of grants and
// revocations over overlapping domains and compares every decision with the
// obvious model: a subject holds a role over a domain when one of its grants
// of that role covers the domain. casbin's incremental role links have been
// wrong here before (see Revoke).
func TestGrantsAgreeWithASimpleModel(t *testing.T) {
	subjects := []string{"u-1", "u-2"}
	roles := []string{events.RoleObserver, events.RoleOperator, events.RolePrefecture}
	domains := []string{gard, nimes, ales, bouches, istres}
	type grant struct{ subject, role, domain string }
	rng := rand.New(rand.NewPCG(30, 189))
	for run := range 12 {
		a := newAuthorizer(t)
		held := map[grant]bool{}
		for step := range 30 {
			g := grant{subjects[rng.IntN(len(subjects))], roles[rng.IntN(len(roles))], domains[rng.IntN(len(domains))]}
			if rng.IntN(2) == 0 {
				if a.Grant(g.subject, g.role, g.domain) == nil {
					held[g] = true
				}
			} else {
				must(t, a.Revoke(g.subject, g.role, g.domain))
				delete(held, g)
			}
			for _, s := range subjects {
				for _, d := range domains {
					var want []string
					for _, r := range roles {
						for _, gd := range domains {
							if held[grant{s, r, gd}] && Covers(gd, d) {
								want = append(want, r)
								break
							}
						}
					}
					slices.Sort(want)
					got := a.RolesIn(Principal{Subject: s}, d)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("run %d step %d: RolesIn(%s, %s) = %v, want %v (held %v)", run, step, s, d, got, want, held)
					}
					for _, perm := range []Permission{{ObjectIncident, ActionLog}, {ObjectAlert, ActionValidateFRAlert}, {ObjectTimeline, ActionRead}} {
						wantOK := false
						for _, r := range want {
							wantOK = wantOK || a.Allows(r, perm.Object, perm.Action)
						}
						if gotOK := allowed(t, a, Principal{Subject: s}, d, perm.Object, perm.Action); gotOK != wantOK {
							t.Fatalf("run %d step %d: %s %s %s on %s = %v, want %v (held %v)", run, step, s, perm.Object, perm.Action, d, gotOK, wantOK, held)
						}
					}
				}
			}
		}
	}
}

func TestGrantsOfListsTheLogsGrantsOfOneSubject(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Grant("u1", "rac", "dep:30/com:30189"))
	must(a.Grant("u1", "prefecture", "dep:30"))
	must(a.Grant("u2", "mayor", "dep:30/com:30007"))
	got := a.GrantsOf("u1")
	want := []Grant{{Role: "prefecture", Domain: "dep:30"}, {Role: "rac", Domain: "dep:30/com:30189"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("GrantsOf(u1) = %v, want %v", got, want)
	}
	must(a.Revoke("u1", "rac", "dep:30/com:30189"))
	if got := a.GrantsOf("u1"); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("after revoke: %v", got)
	}
}

// A mayor's grant requested by one admin gives nothing; the confirmation by
// someone else gives the mayor's powers; a "confirmation" by the admin who
// asked, or by the future mayor, written around the Roles API, gives nothing.
func TestAMayorsGrantTakesEffectOnlyOnceASecondPersonConfirmsIt(t *testing.T) {
	a := newAuthorizer(t)
	at := time.Date(2026, 9, 14, 4, 30, 0, 0, time.UTC)
	x := Principal{Subject: "maire-x"}
	must(t, a.Apply(role.RoleGrantRequested{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, By: "adm-a", At: at}))
	if allowed(t, a, x, nimes, ObjectAlert, approve) || len(a.RolesIn(x, nimes)) != 0 {
		t.Fatal("a requested grant already lets its subject approve alerts")
	}
	for _, forged := range []role.RoleGrantConfirmed{
		{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, RequestedBy: "adm-a", By: "adm-a", At: at},
		{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, RequestedBy: "adm-a", By: x.Subject, At: at},
		{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, RequestedBy: "adm-a", At: at},
	} {
		if err := a.Apply(forged); !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("Apply(%+v) = %v, want ErrInvalidGrant", forged, err)
		}
	}
	if allowed(t, a, x, nimes, ObjectAlert, approve) {
		t.Fatal("a confirmation by the requester or by the subject granted the mayor's role")
	}
	must(t, a.Apply(role.RoleGrantConfirmed{Subject: x.Subject, Role: events.RoleMayor, Domain: nimes, RequestedBy: "adm-a", By: "adm-b", At: at}))
	if !allowed(t, a, x, nimes, ObjectAlert, approve) {
		t.Fatal("the confirmed mayor may not approve alerts")
	}
}

func TestOnlyAdminsAndThePrefectureConfirmGrants(t *testing.T) {
	a := newAuthorizer(t)
	for _, r := range events.Roles {
		want := r == events.RoleAdmin || r == events.RolePrefecture
		if got := a.Allows(r, ObjectRole, ActionConfirm); got != want {
			t.Errorf("%s confirms grants: %v, want %v", r, got, want)
		}
	}
}
