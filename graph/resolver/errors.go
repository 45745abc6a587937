package resolver

import (
	"context"
	"errors"
	"maps"

	"github.com/vektah/gqlparser/v2/gqlerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vigie/events/territory"
	"vigie/graph/auth"
	"vigie/policies"
)

// The error codes of the public API (this list is their definition; docs/ARCHITECTURE.md, "The gateway"), in extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeInvalidInput    = "INVALID_INPUT"
	CodeConflict        = "CONFLICT"
	CodeRejected        = "REJECTED"
	CodeUnavailable     = "UNAVAILABLE"
)

// Error is a GraphQL error with its code, new at every call: gqlgen writes the path and
// the locations of the field that failed into the *gqlerror.Error it is given (and the
// presenter writes into its extensions), so one value must never answer two fields.
func Error(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// refusal is a kind of error that answers many fields: a code and its words, nothing
// else. It is a value, never written to: gqlgen wraps an error that is no
// *gqlerror.Error into a new one for each field it fails (with that field's path and
// locations), and the gateway's presenter reads the code with CodeOf. Package-level
// *gqlerror.Error values were shared that way and carried the path and the aliases of
// the first caller who triggered them to every later one (and raced).
type refusal struct{ code, msg string }

func (e refusal) Error() string { return e.msg }

// The words of the gateway's own errors, in French as every message a person reads:
// the dashboard shows them as they come. Clients tell errors apart by their code
// (extensions.code), never by these words.
const (
	MsgUnauthenticated = "authentification requise : envoyez Authorization: Bearer <jeton>"
	// Refusals say nothing of what exists elsewhere: the same words for every domain.
	MsgForbidden   = "action non autorisée pour votre rôle sur ce territoire"
	MsgNotFound    = "introuvable (ou hors de votre territoire)"
	MsgTimeout     = "le service n'a pas répondu à temps : réessayez"
	MsgConflict    = "modification concurrente : réessayez"
	MsgUnavailable = "service indisponible : réessayez dans un instant"
	// MsgReadModelUnavailable: the boards (Redis) did not answer.
	MsgReadModelUnavailable = "tableaux indisponibles : réessayez dans un instant"
	MsgInvalidDomain        = "territoire invalide : attendu un département comme dep:30 ou une commune comme dep:30/com:30189"
)

var (
	errUnauthenticated error = refusal{CodeUnauthenticated, MsgUnauthenticated}
	errForbidden       error = refusal{CodeForbidden, MsgForbidden}
	errNotFound        error = refusal{CodeNotFound, MsgNotFound}
)

// CodeOf is the contract's code an error carries: as a refusal (also inside the
// *gqlerror.Error gqlgen wraps it in), or in the extensions of a *gqlerror.Error; ""
// when it carries none.
func CodeOf(err error) string {
	var r refusal
	if errors.As(err, &r) {
		return r.code
	}
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		code, _ := ge.Extensions["code"].(string)
		return code
	}
	return ""
}

// Fresh is err as an error of its own: a *gqlerror.Error anywhere in err's chain is
// copied (with its own extensions, without path or locations), so that what gqlgen
// and the presenter then write into it (path, locations, code) belongs to this
// occurrence alone. The gateway passes
// every resolver's error through it, so a value shared by mistake cannot leak one
// caller's path to another; anything else is returned as is (gqlgen wraps it anew).
func Fresh(err error) error {
	if list, ok := err.(gqlerror.List); ok { // gqlgen reports each of them
		out := make(gqlerror.List, len(list))
		for i, e := range list {
			if e != nil {
				out[i] = Fresh(e).(*gqlerror.Error)
			}
		}
		return out
	}
	var ge *gqlerror.Error
	if err == nil || !errors.As(err, &ge) || ge == nil {
		return err
	}
	c := *ge
	// The path and locations are the failing field's, which gqlgen writes next; a
	// shared value may hold another request's.
	c.Path, c.Locations = nil, nil
	if ge.Extensions != nil {
		c.Extensions = maps.Clone(ge.Extensions)
	}
	return &c
}

// fromService turns a service's gRPC status into the contract's codes. Messages of
// rules and input errors are the domain's own (they name the rule); anything else is
// summarised, never passed through.
func fromService(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Error(CodeUnavailable, MsgTimeout)
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.InvalidArgument:
		return Error(CodeInvalidInput, st.Message())
	case codes.FailedPrecondition:
		return Error(CodeRejected, st.Message())
	case codes.NotFound:
		return errNotFound
	case codes.PermissionDenied:
		return errForbidden
	case codes.Unauthenticated:
		return errUnauthenticated
	case codes.Aborted:
		return Error(CodeConflict, MsgConflict)
	}
	return Error(CodeUnavailable, MsgUnavailable)
}

// caller returns the authenticated caller or the UNAUTHENTICATED error.
func caller(ctx context.Context) (auth.Caller, error) {
	c, err := auth.FromContext(ctx)
	if err != nil {
		return auth.Caller{}, errUnauthenticated
	}
	return c, nil
}

// authorize checks that the caller may perform action on object in domain.
func (r *Resolver) authorize(ctx context.Context, domain, object, action string) (auth.Caller, error) {
	c, err := caller(ctx)
	if err != nil {
		return c, err
	}
	if policies.ValidDomain(domain) != nil {
		return c, Error(CodeInvalidInput, MsgInvalidDomain)
	}
	if r.Authz.Authorize(c.Principal, domain, object, action) != nil {
		return c, errForbidden
	}
	return c, nil
}

// canonical is a domain as the read models, the notices and the grants key it:
// "dep:30/*" is "dep:30". Without it a query on "dep:30/*" passed authorization and
// then read keys that do not exist (an empty board, a silent subscription). An invalid
// domain is returned as is: authorize refuses it.
func canonical(domain string) string {
	if c, err := territory.Canonical(domain); err == nil {
		return c
	}
	return domain
}

// canRead says whether the caller may read object in domain (for by-id lookups, where
// a refusal is answered as "not found" so that ids reveal nothing).
func (r *Resolver) canRead(ctx context.Context, domain, object string) bool {
	c, err := auth.FromContext(ctx)
	return err == nil && r.Authz.Authorize(c.Principal, domain, object, policies.ActionRead) == nil
}

// unconfigured answers an operation whose backing part this gateway was not given
// (e.g. replay without an event store): a clear UNAVAILABLE, never a fake answer.
func unconfigured(what string) error {
	return Error(CodeUnavailable, "indisponible sur cette passerelle : "+what)
}
