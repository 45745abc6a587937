package policies

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"vigie/events"
	"vigie/events/role"
	"vigie/events/territory"
)

// The model and the role permissions are files beside this one, so an
// operator reads exactly what the program enforces.
var (
	//go:embed model.conf
	modelConf string
	//go:embed policy.csv
	policyCSV string
)

var (
	// ErrForbidden is every refusal of Authorize. Its messages name the
	// request only, never what the principal holds elsewhere.
	ErrForbidden = errors.New("policies: forbidden")
	// ErrInvalidDomain wraps territory.ErrInvalid for Grant, Revoke and ValidDomain.
	ErrInvalidDomain = errors.New("policies: invalid domain")
	// ErrInvalidGrant is a grant that names an unknown role, an invalid
	// subject, or a role not held on that kind of domain.
	ErrInvalidGrant = errors.New("policies: invalid grant")
	// ErrInvalidPolicy is a policy file that does not say what it should.
	ErrInvalidPolicy = errors.New("policies: invalid policy file")
)

// roleSubject is how casbin names a role: "role:mayor".
const roleSubject = role.SubjectRolePrefix

// Grant is one role on one domain, as a development token carries it.
type Grant struct {
	Role   string `json:"role"`
	Domain string `json:"domain"`
}

// Validate checks the role is known, the domain is one, and the role is held
// on that kind of domain (role.ValidGrant).
func (g Grant) Validate() error {
	if err := role.ValidGrant(g.Role, g.Domain); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidGrant, err)
	}
	return nil
}

// Principal is an authenticated caller: its subject, and the grants its token
// carries (development tokens only), honoured in addition to the grants of
// the event log.
type Principal struct {
	Subject string
	Grants  []Grant
	// Name is the caller's display name, for the events' metadata only: no
	// decision reads it (a name is not unique; the subject is).
	Name string
}

// ValidDomain returns nil for a domain ("dep:30", "dep:30/*",
// "dep:30/com:30189"), an error wrapping ErrInvalidDomain otherwise.
func ValidDomain(s string) error {
	if err := territory.Valid(s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	return nil
}

// Covers reports whether a grant on domain grant applies to a request on
// domain: a département covers itself and its communes, a commune itself.
func Covers(grant, domain string) bool { return territory.Covers(grant, domain) }

// Authorizer is the casbin enforcer with Vigie's model and policy and the
// grants applied so far. It is safe for concurrent use: Authorize runs under a
// read lock, Grant and Revoke under the write lock.
type Authorizer struct {
	mu sync.RWMutex
	e  *casbin.Enforcer

	readyOnce sync.Once
	ready     chan struct{}
}

// New builds an authorizer from the embedded model and policy, with no grants.
func New() (*Authorizer, error) {
	m, err := model.NewModelFromString(modelConf)
	if err != nil {
		return nil, fmt.Errorf("policies: model.conf: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	// casbin calls it as match(requestDomain, grantDomain).
	if !e.AddNamedDomainMatchingFunc("g", "covers", func(domain, grant string) bool { return Covers(grant, domain) }) {
		return nil, fmt.Errorf("%w: model.conf has no role definition g", ErrInvalidPolicy)
	}
	rules, err := parsePolicy(policyCSV)
	if err != nil {
		return nil, err
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	return &Authorizer{e: e, ready: make(chan struct{})}, nil
}

// parsePolicy reads policy.csv strictly: casbin's own loader skips lines it
// cannot read, and a permission lost to a typo would only show as a refusal
// in the middle of a crisis.
func parsePolicy(text string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	var rules [][]string
	seen := map[Permission]map[string]bool{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != 4 || rec[0] != "p" {
			return nil, fmt.Errorf("%w: line %d: want \"p, role:<role>, <object>, <action>\" (grants are events, not policy lines)", ErrInvalidPolicy, line)
		}
		name, ok := strings.CutPrefix(rec[1], roleSubject)
		if !ok || !role.Known(name) {
			return nil, fmt.Errorf("%w: line %d: unknown role %q", ErrInvalidPolicy, line, rec[1])
		}
		p := Permission{Object: rec[2], Action: rec[3]}
		if !known(p) {
			return nil, fmt.Errorf("%w: line %d: unknown permission %s %s", ErrInvalidPolicy, line, p.Object, p.Action)
		}
		if seen[p][name] {
			return nil, fmt.Errorf("%w: line %d: %s %s given twice to %s", ErrInvalidPolicy, line, p.Object, p.Action, name)
		}
		if seen[p] == nil {
			seen[p] = map[string]bool{}
		}
		seen[p][name] = true
		rules = append(rules, rec[1:])
	}
	return rules, nil
}

// Authorize returns nil when p may perform action on object in domain, through
// a grant of the event log or of its token whose domain covers domain; an
// error wrapping ErrForbidden otherwise, including for an invalid subject,
// domain, object or action. Fail closed: every doubt is a refusal.
func (a *Authorizer) Authorize(p Principal, domain, object, action string) error {
	if err := role.ValidSubject(p.Subject); err != nil {
		return fmt.Errorf("%w: no valid subject", ErrForbidden)
	}
	canonical, err := territory.Canonical(domain)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrForbidden, ErrInvalidDomain)
	}
	perm := Permission{Object: object, Action: action}
	if !known(perm) {
		return fmt.Errorf("%w: unknown permission", ErrForbidden)
	}

	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, g := range p.Grants {
		if g.Validate() != nil || !Covers(g.Domain, canonical) {
			continue
		}
		if ok, err := a.e.HasPolicy(roleSubject+g.Role, object, action); err == nil && ok {
			return nil
		}
	}
	ok, err := a.e.Enforce(p.Subject, canonical, object, action)
	if err != nil {
		return fmt.Errorf("%w: %s %s on %s: %w", ErrForbidden, object, action, canonical, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s %s on %s", ErrForbidden, object, action, canonical)
	}
	return nil
}

// Allows reports whether the role roleName's permissions include action on
// object, wherever it is held: which of a caller's roles to record as the
// actor of a command.
func (a *Authorizer) Allows(roleName, object, action string) bool {
	if !role.Known(roleName) {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	ok, err := a.e.HasPolicy(roleSubject+roleName, object, action)
	return err == nil && ok
}

// RolesIn returns the roles p holds over domain, from the event log and its
// token, sorted, without duplicates: what a service records as the actor's
// role and what domain rules (the mayor approves, the prefecture validates
// FR-Alert) look at. Nil for an invalid subject or domain.
func (a *Authorizer) RolesIn(p Principal, domain string) []string {
	if role.ValidSubject(p.Subject) != nil {
		return nil
	}
	canonical, err := territory.Canonical(domain)
	if err != nil {
		return nil
	}
	var roles []string
	for _, g := range p.Grants {
		if g.Validate() == nil && Covers(g.Domain, canonical) {
			roles = append(roles, g.Role)
		}
	}
	a.mu.RLock()
	held := a.e.GetRolesForUserInDomain(p.Subject, canonical)
	a.mu.RUnlock()
	for _, r := range held {
		if name, ok := strings.CutPrefix(r, roleSubject); ok {
			roles = append(roles, name)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// Grant gives subject role on domain. Granting what is already held changes
// nothing, so replaying the log is harmless.
func (a *Authorizer) Grant(subject, roleName, domain string) error {
	canonical, err := checkGrant(subject, roleName, domain)
	if err != nil {
		return err
	}
	if err := role.ValidGrant(roleName, canonical); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidGrant, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.e.AddGroupingPolicy(subject, roleSubject+roleName, canonical); err != nil {
		return fmt.Errorf("policies: grant: %w", err)
	}
	return nil
}

// Revoke takes role on domain away from subject. Revoking what is not held
// changes nothing.
func (a *Authorizer) Revoke(subject, roleName, domain string) error {
	canonical, err := checkGrant(subject, roleName, domain)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	removed, err := a.e.RemoveGroupingPolicy(subject, roleSubject+roleName, canonical)
	if err != nil {
		return fmt.Errorf("policies: revoke: %w", err)
	}
	if !removed {
		return nil
	}
	// casbin deletes the link from every domain the revoked grant covers,
	// even where another grant of the same role still holds it (a commune
	// grant beside a département one). Adding the subject's remaining grants
	// of that role again puts back exactly what they cover.
	rest, err := a.e.GetFilteredGroupingPolicy(0, subject, roleSubject+roleName)
	if err != nil {
		return fmt.Errorf("policies: revoke: %w", err)
	}
	rm := a.e.GetRoleManager()
	for _, g := range rest {
		if err := rm.AddLink(g[0], g[1], g[2]); err != nil {
			return fmt.Errorf("policies: revoke: %w", err)
		}
	}
	return nil
}

func checkGrant(subject, roleName, domain string) (string, error) {
	if err := role.ValidSubject(subject); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidGrant, err)
	}
	if !role.Known(roleName) {
		return "", fmt.Errorf("%w: %w: %q", ErrInvalidGrant, role.ErrUnknownRole, roleName)
	}
	canonical, err := territory.Canonical(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidDomain, err)
	}
	return canonical, nil
}

// Apply applies a role event to the enforcer, as role.EffectOf says: a grant or a
// confirmation by a second person grants, a revocation revokes, a request grants
// nothing (it waits for a second person). A confirmation that is not a second
// person's is refused (ErrInvalidGrant); an event of another kind too.
func (a *Authorizer) Apply(e events.Event) error {
	eff, err := role.EffectOf(e)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidGrant, err)
	}
	switch eff.Change {
	case role.Grants:
		return a.Grant(eff.Subject, eff.Role, eff.Domain)
	case role.Revokes:
		return a.Revoke(eff.Subject, eff.Role, eff.Domain)
	}
	return nil
}

// Ready is closed once Follow has applied every grant the log held when it
// started: before that, Authorize refuses callers whose grants are not yet
// loaded. A service may wait for it before serving.
func (a *Authorizer) Ready() <-chan struct{} { return a.ready }

func (a *Authorizer) markReady() { a.readyOnce.Do(func() { close(a.ready) }) }

// DomainsOf lists the domains the log gives subject roles in (the security journal
// files a rate-limited caller's entry under them: journal.Journal.DomainsOf).
func (a *Authorizer) DomainsOf(subject string) []string {
	var out []string
	for _, g := range a.GrantsOf(subject) {
		if !slices.Contains(out, g.Domain) {
			out = append(out, g.Domain)
		}
	}
	return out
}

// GrantsOf lists the grants the log gives subject, in every domain: what `me` shows
// besides the grants of the caller's own token.
func (a *Authorizer) GrantsOf(subject string) []Grant {
	a.mu.RLock()
	rules, err := a.e.GetFilteredGroupingPolicy(0, subject)
	a.mu.RUnlock()
	if err != nil {
		return nil
	}
	out := make([]Grant, 0, len(rules))
	for _, r := range rules {
		if len(r) < 3 {
			continue
		}
		if name, ok := strings.CutPrefix(r[1], roleSubject); ok {
			out = append(out, Grant{Role: name, Domain: r[2]})
		}
	}
	slices.SortFunc(out, func(x, y Grant) int {
		if c := strings.Compare(x.Domain, y.Domain); c != 0 {
			return c
		}
		return strings.Compare(x.Role, y.Role)
	})
	return out
}
