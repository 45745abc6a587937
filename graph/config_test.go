package graph_test

import (
	"crypto/ed25519"
	"math"
	"testing"

	"golang.org/x/time/rate"

	"vigie/graph"
	"vigie/graph/auth"
	"vigie/graph/resolver"
)

func TestConfigValidate(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	valid := graph.Config{Resolver: &resolver.Resolver{}, Auth: auth.NewDev(key), RateLimit: rate.Inf, RateBurst: 1}
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	// The messages in full: they are what an operator reads on stderr.
	for name, tc := range map[string]struct {
		change func(*graph.Config)
		want   string
	}{
		"no authenticator":        {func(c *graph.Config) { c.Auth = nil }, "graph: Config.Auth is required: every caller is authenticated"},
		"negative body":           {func(c *graph.Config) { c.MaxBodyBytes = -1 }, "graph: Config.MaxBodyBytes: -1 is negative (0 means the default)"},
		"negative rate":           {func(c *graph.Config) { c.RateLimit = -1 }, "graph: Config.RateLimit: -1 is not a rate (0 means the default)"},
		"NaN rate":                {func(c *graph.Config) { c.RateLimit = rate.Limit(math.NaN()) }, "graph: Config.RateLimit: NaN is not a rate (0 means the default)"},
		"negative burst":          {func(c *graph.Config) { c.RateBurst = -1 }, "graph: Config.RateBurst: -1 is negative (0 means the default)"},
		"negative depth":          {func(c *graph.Config) { c.MaxDepth = -1 }, "graph: Config.MaxDepth: -1 is negative (0 means the default)"},
		"negative cost":           {func(c *graph.Config) { c.MaxCost = -1 }, "graph: Config.MaxCost: -1 is negative (0 means the default)"},
		"negative log reads":      {func(c *graph.Config) { c.MaxLogReads = -1 }, "graph: Config.MaxLogReads: -1 is negative (0 means the default)"},
		"negative log read price": {func(c *graph.Config) { c.LogReadWeight = -1 }, "graph: Config.LogReadWeight: -1 is negative (0 means the default)"},
		"two problems": {func(c *graph.Config) { c.Auth, c.MaxDepth = nil, -1 },
			"graph: Config.Auth is required: every caller is authenticated\ngraph: Config.MaxDepth: -1 is negative (0 means the default)"},
	} {
		c := valid
		tc.change(&c)
		// New refuses it too, where it used to replace a negative limit by the default.
		if h, err := graph.New(c); err == nil || err.Error() != tc.want || h != nil {
			t.Errorf("%s: New() = %v, %v\nwant %s", name, h, err, tc.want)
		}
	}
	if _, err := graph.New(valid); err != nil {
		t.Fatalf("New: %v", err)
	}
}
