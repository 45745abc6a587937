package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"

	"github.com/google/uuid"

	"vigie/events"
	"vigie/events/embedded"
	"vigie/events/store"
)

// Least privilege in the event store: each Vigie service connects as its own user and
// may write only its own stream categories; every service reads (each follows the role
// grants on $all, the gateway reads the log for the timeline and the replay). The rule
// is the event store's stream policy (prefix rules in `$policies`, turned on through
// `$authorization-policy-settings`), served the same by the embedded store and by a
// real node with the stream policy plugin: `vigie serve` sets it up at every start,
// `vigie eventstore policy` prints it for a real cluster (infra/eventstore/).
//
// A service that a bug or an attacker turns against the log can then not forge
// another service's events: the alerts service cannot write a role grant (making
// someone prefecture), the projector writes nothing at all.

// storeGroup is the group of every Vigie service's user: the readers of Vigie's streams.
const storeGroup = "vigie"

// storeAccount is a Vigie service's user of the event store and what it may change.
type storeAccount struct {
	name    string
	writes  []string // stream categories it appends to (and writes the metadata of)
	deletes []string // categories whose streams it deletes (crypto-shredding)
}

// The accounts' names.
const (
	accountIncidents = "vigie-incidents"
	accountResources = "vigie-resources"
	accountAlerts    = "vigie-alerts"
	accountGateway   = "vigie-gateway"
	accountProjector = "vigie-projector"
)

var storeAccounts = []storeAccount{
	// The incidents service hosts the Roles API: role grants are its streams too.
	{name: accountIncidents, writes: []string{events.CategoryIncident, events.CategoryRole}},
	{name: accountResources, writes: []string{events.CategoryResource, events.CategoryReinforcement}},
	// Erasing a resident tombstones its key streams.
	{name: accountAlerts, writes: []string{events.CategoryAlert, events.CategoryResident, events.CategoryResidentKey, events.CategoryDispatch},
		deletes: []string{events.CategoryResidentKey}},
	// The security journal.
	{name: accountGateway, writes: []string{events.CategorySecurity}},
	{name: accountProjector},
}

// vigieStreamPolicy is the stream policy of Vigie's categories: one policy per
// category (read by the group, written by its service), `$all` read by the group,
// everything else (other user streams, system streams) for admins only.
func vigieStreamPolicy() embedded.StreamPolicy {
	p := embedded.DefaultStreamPolicy()
	group, none := []string{storeGroup}, []string{}
	var rules []embedded.StreamRule
	for _, a := range storeAccounts {
		for _, cat := range a.writes {
			name := "vigie-" + cat
			del := none
			if slices.Contains(a.deletes, cat) {
				del = []string{a.name}
			}
			p.StreamPolicies[name] = map[embedded.Access][]string{
				embedded.AccessRead: group, embedded.AccessWrite: {a.name}, embedded.AccessDelete: del,
				embedded.AccessMetaRead: group, embedded.AccessMetaWrite: {a.name},
			}
			rules = append(rules, embedded.StreamRule{StartsWith: events.Prefix(cat), Policy: name})
		}
	}
	p.StreamPolicies["vigie-read-all"] = map[embedded.Access][]string{
		embedded.AccessRead: group, embedded.AccessWrite: none, embedded.AccessDelete: none,
		embedded.AccessMetaRead: none, embedded.AccessMetaWrite: none,
	}
	rules = append(rules, embedded.StreamRule{StartsWith: "$all", Policy: "vigie-read-all"})
	p.StreamRules = append(rules, p.StreamRules...)
	p.DefaultStreamRules.UserStreams = "adminsDefault"
	return p
}

// applyStorePolicy makes Vigie's stream policy the store's, through admin (a client
// with an admin's credentials): it appends to `$policies` and to
// `$authorization-policy-settings` only what differs from their last events, so a
// restart writes nothing. It reports whether it wrote.
func applyStorePolicy(ctx context.Context, admin *store.Client) (bool, error) {
	want := vigieStreamPolicy()
	wrote := false
	last, err := lastEvent(ctx, admin, embedded.PoliciesStream)
	if err != nil {
		return false, err
	}
	if got, ok := embedded.ParseStreamPolicy(last.Data); !ok || last.Type != embedded.PolicyUpdatedType || !reflect.DeepEqual(got, want) {
		if err := appendJSON(ctx, admin, embedded.PoliciesStream, embedded.PolicyUpdatedType, want); err != nil {
			return false, err
		}
		wrote = true
	}
	if last, err = lastEvent(ctx, admin, embedded.PolicySettingsStream); err != nil {
		return false, err
	}
	var settings struct {
		Type string `json:"streamAccessPolicyType"`
	}
	if last.Type != embedded.PolicyChangedType || json.Unmarshal(last.Data, &settings) != nil || settings.Type != "streampolicy" {
		if err := appendJSON(ctx, admin, embedded.PolicySettingsStream, embedded.PolicyChangedType, map[string]string{"streamAccessPolicyType": "streampolicy"}); err != nil {
			return false, err
		}
		wrote = true
	}
	return wrote, nil
}

func lastEvent(ctx context.Context, c *store.Client, stream string) (store.Recorded, error) {
	recs, err := c.ReadStream(ctx, stream, store.End, store.Backwards, 1)
	if errors.Is(err, store.ErrStreamNotFound) || err == nil && len(recs) == 0 {
		return store.Recorded{}, nil
	}
	if err != nil {
		return store.Recorded{}, fmt.Errorf("reading %s: %w", stream, err)
	}
	return recs[0], nil
}

func appendJSON(ctx context.Context, c *store.Client, stream, typ string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := c.Append(ctx, stream, store.Any(), store.EventData{ID: uuid.New(), Type: typ, Data: data}); err != nil {
		return fmt.Errorf("writing %s: %w", stream, err)
	}
	return nil
}

// newStoreAccounts makes the services' accounts for one start of the all-in-one,
// each with a fresh password kept in memory.
func newStoreAccounts() ([]embedded.Account, error) {
	out := make([]embedded.Account, 0, len(storeAccounts))
	for _, a := range storeAccounts {
		pw, err := embedded.NewPassword()
		if err != nil {
			return nil, err
		}
		out = append(out, embedded.Account{Name: a.name, Password: pw, Groups: []string{storeGroup}})
	}
	return out, nil
}

// eventstorePolicy is `vigie eventstore policy`: it prints Vigie's stream policy, the
// data of the `$policy-updated` event a node is given; with --apply it makes it the
// policy of the store at EVENTSTORE_URL (an admin's credentials), embedded or real.
func eventstorePolicy(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	apply := fs.Bool("apply", false, "write the policy to the store at EVENTSTORE_URL (an admin's credentials) and turn stream policies on")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	if !*apply {
		b, err := json.MarshalIndent(vigieStreamPolicy(), "", "  ")
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		fmt.Fprintf(stderr, "vigie %s: EVENTSTORE_URL is not set\n", name)
		return exitUsage
	}
	c, err := store.Open(url)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	wrote, err := applyStorePolicy(ctx, c)
	if err != nil {
		return fail(err)
	}
	if wrote {
		fmt.Fprintf(stderr, "vigie %s: stream policy written; each service may now write only its own streams\n", name)
	} else {
		fmt.Fprintf(stderr, "vigie %s: the store already has this policy\n", name)
	}
	return exitOK
}
