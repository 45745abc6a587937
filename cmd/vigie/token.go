package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"vigie/events"
	"vigie/events/labels"
	"vigie/events/role"
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
	sub := fs.String("sub", "", "sujet : un identifiant opaque de la personne (ni un nom ni une adresse électronique)")
	roleName := fs.String("role", "", "rôle : "+strings.Join(events.Roles, ", "))
	domain := fs.String("domain", "", `domaine du rôle : une commune "dep:30/com:30189" ou un département "dep:30"`)
	display := fs.String("name", "", fmt.Sprintf("nom affiché de la personne, facultatif (« Marie Durand », au plus %d caractères) : le journal de crise et le rapport de retour d'expérience le montrent à la place du sujet", role.MaxNameLen))
	ttl := fs.Duration("ttl", identity.DevTTL, "validité")
	if code, ok := parseFlags(fs, name, args, stderr); !ok {
		return code
	}
	grant := policies.Grant{Role: *roleName, Domain: *domain}
	if *sub == "" || *roleName == "" || *domain == "" {
		// In English until TestTokenRequiresSubRoleAndDomain, which pins the line, says it in French.
		fmt.Fprintf(stderr, "vigie %s : --sub, --role et --domain sont obligatoires\n%s\n", name, validRoles())
		return exitUsage
	}
	if err := grantProblem(*roleName, *domain); err != "" {
		fmt.Fprintf(stderr, "vigie %s : %s\n", name, err)
		return exitUsage
	}
	if _, err := role.ValidName(*display); err != nil {
		fmt.Fprintf(stderr, "vigie %s : --name : %v\n", name, err)
		return exitUsage
	}
	if *ttl <= 0 || *ttl > identity.MaxTTL {
		fmt.Fprintf(stderr, "vigie %s : --ttl doit être entre 0 et %v\n", name, identity.MaxTTL)
		return exitUsage
	}
	key, err := identity.LoadOrCreateKey(*data)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s : %v\n", name, err)
		return exitError
	}
	tok, err := identity.Issue(key, identity.Claims{Subject: *sub, Name: *display, Grants: []policies.Grant{grant}}, *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s : %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}

// validRoles lists the roles a token may carry, each with its French label and the
// kind of domain it is granted on, one a line, for a person who mistyped one.
func validRoles() string {
	var b strings.Builder
	b.WriteString("Rôles possibles :\n")
	for _, r := range events.Roles {
		line := fmt.Sprintf("  %-11s %s", r, labels.Roles.Of(r))
		if k := roleDomainKind(r); k != "" {
			line += ", sur " + k
		}
		b.WriteString(line + "\n")
	}
	b.WriteString(`Domaines : une commune « dep:30/com:30189 » (code INSEE) ou un département « dep:30 ».`)
	return b.String()
}

// roleDomainKind says on which kind of domain a role is granted, when it matters
// (role.ValidGrant's rule).
func roleDomainKind(r string) string {
	switch r {
	case events.RolePrefecture:
		return "un département"
	case events.RoleMayor, events.RoleRAC:
		return "une commune"
	}
	return ""
}

// grantProblem says in French what is wrong with a grant, with the valid values; ""
// when role.ValidGrant accepts it.
func grantProblem(roleName, domain string) string {
	err := role.ValidGrant(roleName, domain)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, role.ErrUnknownRole):
		hint := ""
		for _, e := range labels.Roles.Entries() {
			if strings.EqualFold(e.Label, roleName) {
				hint = fmt.Sprintf(" (le rôle de %s s'écrit %s)", e.Label, e.Value)
			}
		}
		return fmt.Sprintf("rôle inconnu « %s »%s.\n%s", roleName, hint, validRoles())
	case errors.Is(err, role.ErrInvalidDomain):
		return fmt.Sprintf("domaine invalide « %s ».\n%s", domain, validRoles())
	default:
		return fmt.Sprintf("le rôle %s (%s) s'accorde sur %s, pas sur « %s ».\n%s", roleName, labels.Roles.Of(roleName), roleDomainKind(roleName), domain, validRoles())
	}
}
