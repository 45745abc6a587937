package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
)

// Stream access, as a real node decides it once users are on (EventStoreDB's
// authorization documentation, "Stream access"): every read, write, delete and
// metadata read or write of a stream needs one of the roles the stream's access
// policy lists for that operation (`$r $w $d $mr $mw`). A caller's roles are its user
// name, its groups and `$all`; members of `$admins` (the built-in user AdminUser) pass
// every check. A store served without credentials (loopback development, the tests)
// checks nothing: every caller acts as the system, as a real node does with
// --insecure.
//
// The policy comes, as on the real server, from one of two mechanisms, chosen by the
// last valid event of `$authorization-policy-settings` (`$authorization-policy-changed`,
// `{"streamAccessPolicyType": "acl" | "streampolicy"}`; none: "acl"):
//   - "acl": the stream's own `$acl` metadata, operation by operation, and for what it
//     does not say the default ACL of `$settings` (`$userStreamAcl` for user streams,
//     `$systemStreamAcl` for `$` streams; by default `$all` and `$admins`). Reading
//     `$all` is reading a system stream.
//   - "streampolicy" (the server's stream policy authorization, licensed on a real
//     node): the last valid `$policy-updated` event of `$policies` names policies and
//     rules by stream prefix (first match wins), with defaults for user and system
//     streams; stream ACLs are then not enforced. Without a valid event, the server's
//     default policy applies. A settings stream whose events are all invalid locks
//     every stream to admins, as the server's fallback does.
//
// Vigie's all-in-one uses stream policies to give each of its services write access
// to its own categories only (cmd/vigie's storeaccess.go).
// The streams and event types of the server's access settings, by the server's names.
const (
	settingsStream       = "$settings"
	PoliciesStream       = "$policies"
	PolicySettingsStream = "$authorization-policy-settings"
	PolicyUpdatedType    = "$policy-updated"
	PolicyChangedType    = "$authorization-policy-changed"

	roleAll    = "$all"
	roleAdmins = "$admins"
)

// Access is one of the five operations a stream's policy grants.
type Access string

const (
	AccessRead      Access = "$r"
	AccessWrite     Access = "$w"
	AccessDelete    Access = "$d"
	AccessMetaRead  Access = "$mr"
	AccessMetaWrite Access = "$mw"
)

var accesses = []Access{AccessRead, AccessWrite, AccessDelete, AccessMetaRead, AccessMetaWrite}

// settingsStreams are the `$` streams a caller may write (an admin, by default): the
// ones that configure access.
var settingsStreams = []string{settingsStream, PoliciesStream, PolicySettingsStream}

// Principal is an authenticated caller: its user name and groups.
type Principal struct {
	Name   string
	Groups []string
}

func (p *Principal) admin() bool {
	return p.Name == AdminUser || slices.Contains(p.Groups, roleAdmins)
}

// holds reports whether one of roles is the principal's.
func (p *Principal) holds(roles []string) bool {
	for _, r := range roles {
		if r == roleAll || r == p.Name || slices.Contains(p.Groups, r) {
			return true
		}
	}
	return false
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalOf is the caller authenticated by the interceptors, nil when the server
// checks no credentials.
func principalOf(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// principalStream gives a streaming handler the context holding its principal.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s principalStream) Context() context.Context { return s.ctx }

// rolesOf is a policy entry: one role as a string, or an array of roles.
func rolesOf(v json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(v, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) || json.Unmarshal(v, &many) != nil {
		return nil, false
	}
	return many, true
}

// aclOf reads an ACL object (`$acl`, `$userStreamAcl`…): the operations it names.
func aclOf(v json.RawMessage) (map[Access][]string, bool) {
	var raw map[string]json.RawMessage
	if t := bytes.TrimSpace(v); len(t) == 0 || t[0] != '{' || json.Unmarshal(v, &raw) != nil {
		return nil, false
	}
	acl := map[Access][]string{}
	for k, v := range raw {
		a := Access(k)
		if !slices.Contains(accesses, a) {
			return nil, false
		}
		roles, ok := rolesOf(v)
		if !ok {
			return nil, false
		}
		acl[a] = roles
	}
	return acl, true
}

// The server's defaults: user streams open to every authenticated user, system
// streams to admins.
var (
	defaultUserACL   = map[Access][]string{AccessRead: {roleAll}, AccessWrite: {roleAll}, AccessDelete: {roleAll}, AccessMetaRead: {roleAll}, AccessMetaWrite: {roleAll}}
	defaultSystemACL = map[Access][]string{AccessRead: {roleAdmins}, AccessWrite: {roleAdmins}, AccessDelete: {roleAdmins}, AccessMetaRead: {roleAdmins}, AccessMetaWrite: {roleAdmins}}
)

// StreamPolicy is the content of a `$policy-updated` event, in the server's schema.
type StreamPolicy struct {
	StreamPolicies     map[string]map[Access][]string `json:"streamPolicies"`
	StreamRules        []StreamRule                   `json:"streamRules"`
	DefaultStreamRules *DefaultStreamRules            `json:"defaultStreamRules"`
}

// StreamRule applies a policy to the streams whose names start with StartsWith.
type StreamRule struct {
	StartsWith string `json:"startsWith"`
	Policy     string `json:"policy"`
}

// DefaultStreamRules names the policies of streams no rule matches.
type DefaultStreamRules struct {
	UserStreams   string `json:"userStreams"`
	SystemStreams string `json:"systemStreams"`
}

// DefaultStreamPolicy is the policy the server writes when stream policies are first
// turned on: user streams open, system streams to admins, the standard projections'
// streams readable by all.
func DefaultStreamPolicy() StreamPolicy {
	all, admins := []string{roleAll}, []string{roleAdmins}
	p := StreamPolicy{
		StreamPolicies: map[string]map[Access][]string{
			"publicDefault":      defaultUserACL,
			"adminsDefault":      defaultSystemACL,
			"projectionsDefault": {AccessRead: all, AccessWrite: admins, AccessDelete: admins, AccessMetaRead: all, AccessMetaWrite: admins},
		},
		DefaultStreamRules: &DefaultStreamRules{UserStreams: "publicDefault", SystemStreams: "adminsDefault"},
	}
	for _, prefix := range []string{"$et-", "$ce-", "$bc-", "$category-", "$streams"} {
		p.StreamRules = append(p.StreamRules, StreamRule{StartsWith: prefix, Policy: "projectionsDefault"})
	}
	return p
}

// ParseStreamPolicy reads a `$policy-updated` event's data and refuses what the
// server refuses: a missing part, an access policy without one of its five entries,
// an empty prefix, a rule or default naming no defined policy.
func ParseStreamPolicy(data []byte) (StreamPolicy, bool) {
	var p StreamPolicy
	if json.Unmarshal(data, &p) != nil || p.StreamPolicies == nil || p.StreamRules == nil || p.DefaultStreamRules == nil {
		return StreamPolicy{}, false
	}
	for _, pol := range p.StreamPolicies {
		for _, a := range accesses {
			if pol[a] == nil {
				return StreamPolicy{}, false
			}
		}
	}
	defined := func(name string) bool { _, ok := p.StreamPolicies[name]; return ok }
	for _, r := range p.StreamRules {
		if r.StartsWith == "" || !defined(r.Policy) {
			return StreamPolicy{}, false
		}
	}
	if !defined(p.DefaultStreamRules.UserStreams) || !defined(p.DefaultStreamRules.SystemStreams) {
		return StreamPolicy{}, false
	}
	return p, true
}

// policyFor is the access policy of stream: the first rule whose prefix it starts
// with, else the default for its kind.
func (p StreamPolicy) policyFor(stream string) map[Access][]string {
	for _, r := range p.StreamRules {
		if strings.HasPrefix(stream, r.StartsWith) {
			return p.StreamPolicies[r.Policy]
		}
	}
	if strings.HasPrefix(stream, "$") {
		return p.StreamPolicies[p.DefaultStreamRules.SystemStreams]
	}
	return p.StreamPolicies[p.DefaultStreamRules.UserStreams]
}

// accessConfig is what the three settings streams say, read once and kept until one
// of them is written (accessCache).
type accessConfig struct {
	restricted bool          // the settings stream holds only invalid events: admins only
	policy     *StreamPolicy // stream policies are on
	userACL    map[Access][]string
	systemACL  map[Access][]string
}

// accessCache holds the access configuration for the checks of every call, read
// without a lock; a write to a settings stream drops it, and a configuration read
// while such a write happened is not kept (gen).
type accessCache struct {
	cfg atomic.Pointer[accessConfig]
	gen atomic.Uint64
	mu  sync.Mutex // one reader of the settings streams at a time
}

func (c *accessCache) invalidate() {
	c.gen.Add(1)
	c.cfg.Store(nil)
}

// accessConfig returns the store's current access configuration.
func (s *Store) accessConfig() (*accessConfig, error) {
	if cfg := s.access.cfg.Load(); cfg != nil {
		return cfg, nil
	}
	s.access.mu.Lock()
	defer s.access.mu.Unlock()
	if cfg := s.access.cfg.Load(); cfg != nil {
		return cfg, nil
	}
	gen := s.access.gen.Load()
	cfg, err := s.readAccessConfig()
	if err != nil {
		return nil, err
	}
	if s.access.gen.Load() == gen {
		s.access.cfg.Store(cfg)
	}
	return cfg, nil
}

// readAccessConfig reads what the three settings streams say.
func (s *Store) readAccessConfig() (*accessConfig, error) {
	cfg := &accessConfig{userACL: defaultUserACL, systemACL: defaultSystemACL}
	// $settings: its last event, read strictly; what it does not say keeps the default.
	if recs, err := s.lastEvents(settingsStream, 1); err != nil {
		return nil, err
	} else if len(recs) == 1 {
		var raw map[string]json.RawMessage
		if json.Unmarshal(recs[0].Data, &raw) == nil {
			if acl, ok := aclOf(raw["$userStreamAcl"]); ok {
				cfg.userACL = withDefaults(acl, defaultUserACL)
			}
			if acl, ok := aclOf(raw["$systemStreamAcl"]); ok {
				cfg.systemACL = withDefaults(acl, defaultSystemACL)
			}
		}
	}
	mode, err := s.policyType()
	if err != nil {
		return nil, err
	}
	switch mode {
	case "restricted":
		cfg.restricted = true
	case "streampolicy":
		p := DefaultStreamPolicy()
		recs, err := s.lastEvents(PoliciesStream, readChunk)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs { // newest first: the last valid one applies
			if rec.Type != PolicyUpdatedType {
				continue
			}
			if got, ok := ParseStreamPolicy(rec.Data); ok {
				p = got
				break
			}
		}
		cfg.policy = &p
	}
	return cfg, nil
}

func withDefaults(acl, def map[Access][]string) map[Access][]string {
	out := map[Access][]string{}
	for _, a := range accesses {
		if r, ok := acl[a]; ok {
			out[a] = r
		} else {
			out[a] = def[a]
		}
	}
	return out
}

// policyType is the last valid choice of `$authorization-policy-settings`: "acl" when
// the stream is empty, "restricted" when none of its (last readChunk) events is valid.
func (s *Store) policyType() (string, error) {
	recs, err := s.lastEvents(PolicySettingsStream, readChunk)
	if err != nil || len(recs) == 0 {
		return "acl", err
	}
	for _, rec := range recs {
		var v struct {
			Type string `json:"streamAccessPolicyType"`
		}
		if rec.Type == PolicyChangedType && json.Unmarshal(rec.Data, &v) == nil && (v.Type == "acl" || v.Type == "streampolicy") {
			return v.Type, nil
		}
	}
	return "restricted", nil
}

// lastEvents returns up to n of stream's last events, newest first.
func (s *Store) lastEvents(stream string, n int) ([]record, error) {
	st, err := getState(s.db, stream)
	if err != nil || st.LastRevision < 0 || st.Tombstoned {
		return nil, err
	}
	chunk, err := s.readStream(stream, st.TruncateBefore, uint64(st.LastRevision), true, n)
	return chunk.recs, err
}

// allowed reports whether p may do a on stream; a on a metadata stream `$$S` is the
// matching metadata operation on S. A nil principal (no credentials checked) may do
// everything.
func (s *Store) allowed(p *Principal, stream string, a Access) (bool, error) {
	if p == nil || p.admin() {
		return true, nil
	}
	if isMetaStream(stream) {
		stream = stream[len(metaPrefix):]
		switch a {
		case AccessRead:
			a = AccessMetaRead
		case AccessWrite:
			a = AccessMetaWrite
		}
	}
	cfg, err := s.accessConfig()
	if err != nil {
		return false, err
	}
	switch {
	case cfg.restricted:
		return false, nil
	case cfg.policy != nil:
		return p.holds(cfg.policy.policyFor(stream)[a]), nil
	}
	def := cfg.userACL
	if strings.HasPrefix(stream, "$") {
		def = cfg.systemACL
	}
	roles := def[a]
	if !strings.HasPrefix(stream, "$") {
		if data, err := latestMetaData(s.db, stream); err != nil {
			return false, err
		} else if data != nil {
			if acl, ok := streamACL(data); ok {
				if r, set := acl[a]; set {
					roles = r
				}
			}
		}
	}
	return p.holds(roles), nil
}

// streamACL is the `$acl` of a stream's metadata, if the metadata is valid (parseMeta's
// rule: invalid metadata counts as none).
func streamACL(data []byte) (map[Access][]string, bool) {
	if _, valid := parseMetaValid(data); !valid {
		return nil, false
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(data, &props) != nil {
		return nil, false
	}
	v, ok := props["$acl"]
	if !ok {
		return nil, false
	}
	return aclOf(v)
}

// isSettingsStream: one of the `$` streams that configure access.
func isSettingsStream(stream string) bool { return slices.Contains(settingsStreams, stream) }
