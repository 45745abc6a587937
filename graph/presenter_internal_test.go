package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The error presenter tells a resolver's uncoded error (UNAVAILABLE: something broke)
// from an argument gqlgen could not read (INVALID_INPUT: the request is wrong) by the
// field context it is reported with. The end-to-end tests see the second kind; no
// resolver of Vigie returns the first, so it is pinned here.
func TestAnErrorIsAResolversOnlyWhenReportedWithItsFieldsContext(t *testing.T) {
	field := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "timeline", Name: "timeline"}}}
	inField := graphql.WithFieldContext(context.Background(), field)
	at := func(path ...any) *gqlerror.Error {
		e := &gqlerror.Error{Message: "x"}
		for _, p := range path {
			switch p := p.(type) {
			case string:
				e.Path = append(e.Path, ast.PathName(p))
			case int:
				e.Path = append(e.Path, ast.PathIndex(p))
			}
		}
		return e
	}
	cases := []struct {
		name string
		ctx  context.Context
		err  *gqlerror.Error
		want bool
	}{
		{"the field's own error", inField, at("timeline"), true},
		{"an argument of a root field, read before its context exists", context.Background(), at("timeline", "from"), false},
		{"an argument, under a parent's context", inField, at("timeline", "from"), false},
		{"the request as a whole", inField, at(), false},
	}
	for _, c := range cases {
		if got := resolving(c.ctx, c.err); got != c.want {
			t.Errorf("%s: resolving = %v, want %v", c.name, got, c.want)
		}
	}
}
