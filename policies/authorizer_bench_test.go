package policies

import (
	"fmt"
	"testing"

	"vigie/events"
)

// BenchmarkAuthorize measures one decision with a département's worth of
// grants loaded: the Gard's 351 communes with a mayor, a RAC and two
// operators each, and the prefecture on the département.
func BenchmarkAuthorize(b *testing.B) {
	a, err := New()
	if err != nil {
		b.Fatal(err)
	}
	for i := range 351 {
		d := fmt.Sprintf("dep:30/com:30%03d", i+1)
		for _, g := range []struct{ s, r string }{{"m", events.RoleMayor}, {"r", events.RoleRAC}, {"o1", events.RoleOperator}, {"o2", events.RoleOperator}} {
			if err := a.Grant(fmt.Sprintf("%s-%d", g.s, i), g.r, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := a.Grant("cod-1", events.RolePrefecture, "dep:30"); err != nil {
		b.Fatal(err)
	}
	b.Run("commune role", func(b *testing.B) {
		p := Principal{Subject: "m-188"}
		for b.Loop() {
			if err := a.Authorize(p, "dep:30/com:30189", ObjectAlert, ActionApprove); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prefecture over a commune", func(b *testing.B) {
		p := Principal{Subject: "cod-1"}
		for b.Loop() {
			if err := a.Authorize(p, "dep:30/com:30189", ObjectAlert, ActionValidateFRAlert); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("token grant", func(b *testing.B) {
		p := Principal{Subject: "dev-1", Grants: []Grant{{events.RoleMayor, "dep:30/com:30189"}}}
		for b.Loop() {
			if err := a.Authorize(p, "dep:30/com:30189", ObjectAlert, ActionApprove); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refusal", func(b *testing.B) {
		p := Principal{Subject: "m-188"}
		for b.Loop() {
			if err := a.Authorize(p, "dep:30/com:30007", ObjectAlert, ActionApprove); err == nil {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("revoke", func(b *testing.B) {
		for b.Loop() {
			if err := a.Grant("tmp-1", events.RoleObserver, "dep:30/com:30189"); err != nil {
				b.Fatal(err)
			}
			if err := a.Revoke("tmp-1", events.RoleObserver, "dep:30/com:30189"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
