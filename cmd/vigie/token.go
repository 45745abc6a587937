package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"vigie/identity"
	"vigie/policies"
)

// token prints a development token signed with the data directory's key. A gateway or
// service in development mode honours the role grant it carries; in production the
// grants come from the log and tokens from the OIDC provider.
func token(_ context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory holding the signing key (env VIGIE_DATA)")
	sub := fs.String("sub", "", "subject: an opaque user id (not a name or an e-mail)")
	roleName := fs.String("role", "", "role: mayor, rac, operator, field, observer, prefecture, admin")
	domain := fs.String("domain", "", `domain of the role, e.g. "dep:30/com:30189" or "dep:30"`)
	ttl := fs.Duration("ttl", identity.DevTTL, "validity")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	grant := policies.Grant{Role: *roleName, Domain: *domain}
	if *sub == "" || *roleName == "" || *domain == "" {
		fmt.Fprintf(stderr, "vigie %s: --sub, --role and --domain are required\n", name)
		return exitUsage
	}
	if *ttl <= 0 || *ttl > identity.MaxTTL {
		fmt.Fprintf(stderr, "vigie %s: --ttl must be between 0 and 168h\n", name)
		return exitUsage
	}
	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitError
	}
	tok, err := identity.Issue(key, identity.Claims{Subject: *sub, Grants: []policies.Grant{grant}}, *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}
