// Command vigie is Vigie's one binary: the whole command post on its embedded defaults,
// or one component against external stores. The subcommands are fixed by the public
// contract (docs/ARCHITECTURE.md, "Modules"; `vigie help` lists them).
//
// Dispatch is written by hand over the standard flag package: the command tree is two
// levels deep and small, which does not justify a CLI framework dependency.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit codes. 2 is the flag package's convention for a usage error.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// command is one entry of the contract's command table.
type command struct {
	name     string // words after "vigie", e.g. "serve eventstore"
	synopsis string // arguments, for the usage text
	summary  string
	run      func(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand of the contract, in the order the usage shows them.
var commands = []command{
	{name: "serve", synopsis: "[--data DIR] [--http ADDR]", summary: "everything in one process on the embedded defaults", run: serveAll},
	{name: "serve eventstore", synopsis: "[--data DIR] [--listen ADDR] [--secure|--insecure] [--tls-san NAME] [--tls-cert FILE --tls-key FILE] [--metrics ADDR]", summary: "the embedded event store alone (EventStoreDB gRPC protocol)", run: serveEventstore},
	{name: "serve incidents", synopsis: "[--data DIR] [--listen ADDR] [--metrics ADDR]", summary: "the incidents service (and the Roles API) against EVENTSTORE_URL", run: serveIncidents},
	{name: "serve resources", synopsis: "[--data DIR] [--listen ADDR] [--metrics ADDR]", summary: "the resources service against EVENTSTORE_URL", run: serveResources},
	{name: "serve alerts", synopsis: "[--data DIR] [--listen ADDR] [--metrics ADDR]", summary: "the alerts service and its dispatcher against EVENTSTORE_URL", run: serveAlerts},
	{name: "serve projector", synopsis: "[--data DIR] [--listen ADDR]", summary: "the projector against EVENTSTORE_URL and REDIS_URL", run: serveProjector},
	{name: "serve gateway", synopsis: "[--data DIR] [--http ADDR]", summary: "the GraphQL gateway and dashboard", run: serveGateway},
	{name: "demo", synopsis: "[--data DIR] [--http ADDR]", summary: "serve plus a seeded Cévennes flash-flood scenario", run: demo},
	{name: "token", synopsis: "--data DIR --sub NAME --role ROLE --domain DOMAIN [--ttl 8h]", summary: "print a development token", run: token},
	{name: "projections rebuild", synopsis: "NAME", summary: "rebuild one read model from the log", run: rebuildProjection},
	{name: "replay", synopsis: "--at TIME [--domain D] [--stream S] [--report FILE]", summary: "the boards as they were at TIME", run: replayCmd},
	{name: "drill", synopsis: "--from DOMAIN --to EXERCISE_DOMAIN --speed N", summary: "replay a recorded crisis into an exercise domain", run: drillCmd},
	{name: "backup", synopsis: "--data DIR --to FILE [--force]", summary: "online backup of the embedded event store", run: backup},
	{name: "restore", synopsis: "--from FILE --data DIR [--force]", summary: "verified restore of a backup", run: restore},
	{name: "eventstore user add", synopsis: "NAME --data DIR [--password-stdin] [--groups G1,G2]", summary: "add a user of the embedded event store (password generated and printed once, or from stdin)", run: eventstoreUser},
	{name: "eventstore user passwd", synopsis: "NAME --data DIR [--password-stdin] [--groups G1,G2]", summary: "change a user's password (and groups)", run: eventstoreUser},
	{name: "eventstore user remove", synopsis: "NAME --data DIR", summary: "remove a user (never the last one)", run: eventstoreUser},
	{name: "eventstore policy", synopsis: "[--apply]", summary: "print the stream policy that lets each Vigie service write only its own streams, or --apply it to the store at EVENTSTORE_URL (infra/eventstore/)", run: eventstorePolicy},
	{name: "eventstore scavenge", synopsis: "--data DIR", summary: "erase the events that stream metadata or soft deletes hide (the store not served)", run: eventstoreScavenge},
	{name: "keys rotate", synopsis: "--data DIR", summary: "re-wrap every resident's key under a new key-encryption key", run: keysRotate},
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code so that tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	cmd, rest, ok := lookup(args)
	if !ok {
		fmt.Fprintf(stderr, "vigie: unknown command %q\n\n", strings.Join(args, " "))
		usage(stderr)
		return exitUsage
	}
	return cmd.run(ctx, cmd.name, rest, stdout, stderr)
}

// lookup finds the longest command name that prefixes args, so that "serve eventstore"
// wins over "serve", and "serve --data x" (a flag, not a component) still means "serve".
func lookup(args []string) (command, []string, bool) {
	var best command
	var words int
	for _, c := range commands {
		n := strings.Fields(c.name)
		if len(n) > words && len(n) <= len(args) && slices.Equal(args[:len(n)], n) {
			best, words = c, len(n)
		}
	}
	if words == 0 {
		return command{}, nil, false
	}
	rest := args[words:]
	// A bare word after a command that has components ("serve bogus") is a mistyped
	// component, not an argument: refuse it rather than quietly run "serve".
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && hasChildren(best.name) {
		return command{}, nil, false
	}
	return best, rest, true
}

// hasChildren reports whether some command extends name by one more word.
func hasChildren(name string) bool {
	for _, c := range commands {
		if strings.HasPrefix(c.name, name+" ") {
			return true
		}
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Vigie: the multi-risk command post of the crisis cells.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  vigie %s %s\n      %s\n", c.name, c.synopsis, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Environment: EVENTSTORE_URL, REDIS_URL, VIGIE_DATA, VIGIE_HTTP_ADDR, VIGIE_*_ADDR (several instances: a,b), VIGIE_DRAIN_DELAY, VIGIE_RESIDENT_KEK_FILE, the providers of alerts (VIGIE_SMTP_*, VIGIE_SMS_URL, …, see the README), OTEL_*. Flags win over environment.")
	fmt.Fprintln(w, "Run 'vigie COMMAND -h' for the flags of a built command.")
}
