package resolver

import (
	"fmt"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// No error of the resolvers is a *gqlerror.Error shared between occurrences: gqlgen
// writes the failing field's path and locations into the one it is given.
func TestRefusalsAreNeverSharedGraphQLErrors(t *testing.T) {
	for name, err := range map[string]error{"errUnauthenticated": errUnauthenticated, "errForbidden": errForbidden, "errNotFound": errNotFound} {
		if _, ok := err.(*gqlerror.Error); ok {
			t.Errorf("%s is a *gqlerror.Error: one value for every occurrence", name)
		}
		if CodeOf(err) == "" || CodeOf(gqlerror.WrapPath(ast.Path{ast.PathName("x")}, err)) != CodeOf(err) {
			t.Errorf("%s: CodeOf %q, and %q once wrapped by gqlgen", name, CodeOf(err), CodeOf(gqlerror.WrapPath(nil, err)))
		}
	}
	if got := CodeOf(fromService(fmt.Errorf("x"))); got != CodeUnavailable {
		t.Errorf("CodeOf(a service's unknown failure) = %q", got)
	}
}

// Fresh copies a *gqlerror.Error, so that a value shared by mistake carries neither
// the path of its last use nor writes into another's extensions.
func TestFreshCopiesASharedError(t *testing.T) {
	shared := Error(CodeForbidden, "forbidden")
	shared.Path = ast.Path{ast.PathName("someoneElsesAlias")}
	shared.Locations = []gqlerror.Location{{Line: 3, Column: 7}}
	got, ok := Fresh(fmt.Errorf("wrapped: %w", shared)).(*gqlerror.Error)
	if !ok || got == shared || got.Path != nil || got.Locations != nil || got.Message != "forbidden" || CodeOf(got) != CodeForbidden {
		t.Fatalf("Fresh: %#v", got)
	}
	got.Extensions["reason"] = "mine"
	if _, ok := shared.Extensions["reason"]; ok {
		t.Error("the copy's extensions are the shared value's")
	}
	list := Fresh(gqlerror.List{shared, nil}).(gqlerror.List)
	if len(list) != 2 || list[0] == shared || list[0].Path != nil || list[1] != nil {
		t.Errorf("Fresh of a list: %#v", list)
	}
	if Fresh(nil) != nil || Fresh(errForbidden) != errForbidden {
		t.Error("Fresh must leave nil and refusals as they are")
	}
}
