package graph_test

import (
	"crypto/ed25519"
	"math"
	"strings"
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
	for name, tc := range map[string]struct {
		change func(*graph.Config)
		want   []string // each must appear in the error
	}{
		"no authenticator":        {func(c *graph.Config) { c.Auth = nil }, []string{"Config.Auth", "required"}},
		"negative body":           {func(c *graph.Config) { c.MaxBodyBytes = -1 }, []string{"Config.MaxBodyBytes", "negative"}},
		"negative rate":           {func(c *graph.Config) { c.RateLimit = -1 }, []string{"Config.RateLimit", "not a rate"}},
		"NaN rate":                {func(c *graph.Config) { c.RateLimit = rate.Limit(math.NaN()) }, []string{"Config.RateLimit", "not a rate"}},
		"negative burst":          {func(c *graph.Config) { c.RateBurst = -1 }, []string{"Config.RateBurst", "negative"}},
		"negative depth":          {func(c *graph.Config) { c.MaxDepth = -1 }, []string{"Config.MaxDepth", "negative"}},
		"negative cost":           {func(c *graph.Config) { c.MaxCost = -1 }, []string{"Config.MaxCost", "negative"}},
		"negative log reads":      {func(c *graph.Config) { c.MaxLogReads = -1 }, []string{"Config.MaxLogReads", "negative"}},
		"negative log read price": {func(c *graph.Config) { c.LogReadWeight = -1 }, []string{"Config.LogReadWeight", "negative"}},
		"two problems":            {func(c *graph.Config) { c.Auth, c.MaxDepth = nil, -1 }, []string{"Config.Auth", "Config.MaxDepth"}},
	} {
		c := valid
		tc.change(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
		// New refuses it too, where it used to replace a negative limit by the default.
		if h, err := graph.New(c); err == nil || h != nil {
			t.Errorf("%s: New built a gateway (%v)", name, err)
		}
	}
	if _, err := graph.New(valid); err != nil {
		t.Fatalf("New: %v", err)
	}
}
