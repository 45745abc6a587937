package modules_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"vigie/events"
	"vigie/events/labels"
	"vigie/graph/dashboard/modules"
	"vigie/graph/model"
	"vigie/policies"
	"vigie/services/alerts/alert"
	"vigie/services/resources/resource"
)

func strs[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out
}

// keys are an export's keys, sorted.
func keys(s labels.Set) []string {
	var out []string
	for _, e := range s.Entries() {
		out = append(out, s.Key(e.Value))
	}
	slices.Sort(out)
	return out
}

// Every value of the gateway's enums the dashboard shows has a label, and no
// label is of a value the gateway does not have.
func TestTheLabelsCoverTheGatewaysEnums(t *testing.T) {
	gateway := map[string][]string{
		"IncidentKind":        strs(model.AllIncidentKind),
		"Severity":            strs(model.AllSeverity),
		"IncidentStatus":      strs(model.AllIncidentStatus),
		"ResourceKind":        strs(model.AllResourceKind),
		"ResourceStatus":      strs(model.AllResourceStatus),
		"AlertStatus":         strs(model.AllAlertStatus),
		"ReinforcementStatus": strs(model.AllReinforcementStatus),
		"ChannelState":        strs(model.AllChannelState),
		"AlertChannel":        strs(model.AllAlertChannel),
		"Urgency":             strs(model.AllUrgency),
		"Certainty":           strs(model.AllCertainty),
		"AlertCategory":       strs(model.AllAlertCategory),
		"":                    strs(events.Roles),
	}
	names := map[string]bool{}
	for _, x := range modules.Exports {
		if names[x.Name] {
			t.Errorf("%s exported twice", x.Name)
		}
		names[x.Name] = true
		want, ok := gateway[x.Set.Enum]
		if !ok {
			t.Errorf("%s: no gateway enum %q to check", x.Name, x.Set.Enum)
			continue
		}
		if got := keys(x.Set); !slices.Equal(got, want) {
			t.Errorf("%s: labelled %v, the gateway's %s is %v", x.Name, got, x.Set.Enum, want)
		}
	}
	for _, s := range labels.Sets() {
		found := false
		for _, x := range modules.Exports {
			found = found || x.Set.Enum == s.Enum
		}
		if !found {
			t.Errorf("the labels of %q are not exported to the dashboard", s.Enum)
		}
	}
}

// The labels are keyed by the values events store: the services' enums, as the
// timeline reads them.
func TestTheLabelsAreKeyedByTheStoredValues(t *testing.T) {
	stored := func(s labels.Set) []string {
		var out []string
		for _, e := range s.Entries() {
			out = append(out, e.Value)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		set  labels.Set
		want []string
	}{
		{labels.ResourceKinds, strs(resource.Kinds())},
		{labels.ResourceStatuses, strs(resource.Statuses())},
		{labels.AlertStatuses, strs(alert.Statuses())},
		{labels.Channels, strs(alert.Channels())},
		{labels.Urgencies, strs(alert.Urgencies())},
		{labels.Certainties, strs(alert.Certainties())},
		{labels.Categories, strs(alert.Categories())},
		{labels.Severities, strs(alert.Severities())},
		{labels.ChannelStates, strs([]alert.ChannelState{alert.ChannelPending, alert.ChannelSending, alert.ChannelDelivered, alert.ChannelPartial, alert.ChannelFailed, alert.ChannelRefused})},
	} {
		if got := stored(c.set); !slices.Equal(got, c.want) {
			t.Errorf("%s: labelled %v, stored values %v", c.set.Enum, got, c.want)
		}
	}
}

// permissions.gen.js lists, role by role, exactly what the authorizer allows.
func TestThePermissionsAreThePolicys(t *testing.T) {
	js, err := modules.Permissions()
	if err != nil {
		t.Fatal(err)
	}
	a, err := policies.New()
	if err != nil {
		t.Fatal(err)
	}
	role := regexp.MustCompile(`(?m)^  ([a-z]+): Object\.freeze\(\[([^\]]*)\]\),$`)
	perm := regexp.MustCompile(`"([a-z_]+):([a-z_]+)"`)
	got := map[string]map[policies.Permission]bool{}
	for _, m := range role.FindAllStringSubmatch(string(js), -1) {
		got[m[1]] = map[policies.Permission]bool{}
		for _, p := range perm.FindAllStringSubmatch(m[2], -1) {
			got[m[1]][policies.Permission{Object: p[1], Action: p[2]}] = true
		}
	}
	if len(got) != len(events.Roles) {
		t.Fatalf("permissions.gen.js names %d roles, want %d:\n%s", len(got), len(events.Roles), js)
	}
	n := 0
	for _, r := range events.Roles {
		for _, p := range policies.Vocabulary() {
			if got[r][p] != a.Allows(r, p.Object, p.Action) {
				t.Errorf("%s %s:%s: generated %v, the authorizer allows %v", r, p.Object, p.Action, got[r][p], a.Allows(r, p.Object, p.Action))
			}
			if got[r][p] {
				n++
			}
		}
	}
	// And policy.csv's lines, read plainly, are what was generated.
	csv, err := os.ReadFile("../../../policies/policy.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, l := range strings.Split(string(csv), "\n") {
		f := strings.Split(l, ",")
		if len(f) != 4 || strings.TrimSpace(f[0]) != "p" {
			continue
		}
		lines++
		r := strings.TrimPrefix(strings.TrimSpace(f[1]), "role:")
		if p := (policies.Permission{Object: strings.TrimSpace(f[2]), Action: strings.TrimSpace(f[3])}); !got[r][p] {
			t.Errorf("policy.csv gives %s %s:%s, permissions.gen.js does not", r, p.Object, p.Action)
		}
	}
	if lines < 50 || n != lines {
		t.Errorf("permissions.gen.js has %d permissions, policy.csv %d lines", n, lines)
	}
}
