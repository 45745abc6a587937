// Command vigie is Vigie's one binary: the whole command post on its embedded defaults,
// or one component against external stores. The subcommands are fixed by the public
// contract (docs/ARCHITECTURE.md, "Modules"; `vigie help` lists them, one line each, and
// `vigie help COMMAND` gives one's arguments).
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
	synopsis string // arguments, for `vigie help COMMAND`
	summary  string // one line of French, for `vigie help`
	run      func(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand of the contract, in the order the usage shows them.
var commands = []command{
	{name: "serve", synopsis: "[--data DIR] [--http ADDR]", summary: "tout le poste de commandement en un processus, sur les réglages intégrés", run: serveAll},
	{name: "serve eventstore", synopsis: "[--data DIR] [--listen ADDR] [--secure|--insecure] [--tls-san NAME] [--tls-cert FILE --tls-key FILE] [--metrics ADDR]", summary: "le magasin d'événements intégré seul (protocole gRPC d'EventStoreDB)", run: serveEventstore},
	{name: "serve incidents", synopsis: "[--data DIR] [--listen ADDR] [--metrics ADDR]", summary: "le service des incidents (et l'API des rôles), sur EVENTSTORE_URL", run: serveIncidents},
	{name: "serve resources", synopsis: "[--data DIR] [--listen ADDR] [--metrics ADDR]", summary: "le service des moyens, sur EVENTSTORE_URL", run: serveResources},
	{name: "serve alerts", synopsis: "[--data DIR] [--listen ADDR] [--metrics ADDR]", summary: "le service des alertes et leur diffusion, sur EVENTSTORE_URL", run: serveAlerts},
	{name: "serve projector", synopsis: "[--data DIR] [--listen ADDR]", summary: "le projecteur des tableaux, sur EVENTSTORE_URL et REDIS_URL", run: serveProjector},
	{name: "serve gateway", synopsis: "[--data DIR] [--http ADDR]", summary: "la passerelle GraphQL et le tableau de bord", run: serveGateway},
	{name: "demo", synopsis: "[--data DIR] [--http ADDR]", summary: "serve, avec une nuit de crue cévenole enregistrée (jetons imprimés)", run: demo},
	{name: "token", synopsis: "--data DIR --sub NAME --role ROLE --domain DOMAIN [--ttl 8h]", summary: "imprimer un jeton de développement (rôles : vigie token -h)", run: token},
	{name: "projections rebuild", synopsis: "NAME", summary: "reconstruire un tableau à partir du journal", run: rebuildProjection},
	{name: "replay", synopsis: "--at TIME [--domain D] [--stream S] [--report FILE]", summary: "les tableaux tels qu'ils étaient à un instant, en JSON", run: replayCmd},
	{name: "drill", synopsis: "--from DOMAIN --to EXERCISE_DOMAIN --speed N", summary: "rejouer une crise enregistrée dans une commune d'exercice", run: drillCmd},
	{name: "backup", synopsis: "--data DIR --to FILE [--force]", summary: "sauvegarder à chaud le magasin d'événements intégré", run: backup},
	{name: "restore", synopsis: "--from FILE --data DIR [--force]", summary: "restaurer une sauvegarde, vérifiée d'abord", run: restore},
	{name: "eventstore user add", synopsis: "NAME --data DIR [--password-stdin] [--groups G1,G2]", summary: "ajouter un utilisateur du magasin intégré (mot de passe imprimé une fois, ou lu sur l'entrée)", run: eventstoreUser},
	{name: "eventstore user passwd", synopsis: "NAME --data DIR [--password-stdin] [--groups G1,G2]", summary: "changer le mot de passe (et les groupes) d'un utilisateur", run: eventstoreUser},
	{name: "eventstore user remove", synopsis: "NAME --data DIR", summary: "retirer un utilisateur (jamais le dernier)", run: eventstoreUser},
	{name: "eventstore policy", synopsis: "[--apply]", summary: "imprimer (ou --apply : appliquer) la politique qui ne laisse chaque service écrire que ses flux", run: eventstorePolicy},
	{name: "eventstore scavenge", synopsis: "--data DIR", summary: "effacer les événements que les métadonnées des flux cachent (magasin arrêté)", run: eventstoreScavenge},
	{name: "keys rotate", synopsis: "--data DIR", summary: "rechiffrer la clé de chaque résident sous une nouvelle clé maîtresse", run: keysRotate},
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
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		// vigie help COMMAND: the command's arguments.
		if cmd, rest, ok := lookup(args[1:]); ok && len(rest) == 0 {
			fmt.Fprintf(stdout, "vigie %s %s\n  %s\nLes options : vigie %s -h\n", cmd.name, cmd.synopsis, cmd.summary, cmd.name)
			return exitOK
		}
		args = args[1:]
	}
	cmd, rest, ok := lookup(args)
	if !ok {
		fmt.Fprintf(stderr, "vigie : commande inconnue « %s »\n\n", strings.Join(args, " "))
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

// usage lists every command, one line each: what a newcomer reads first.
func usage(w io.Writer) {
	fmt.Fprintln(w, "Vigie : le poste de commandement multirisque des cellules de crise.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: vigie COMMANDE [options]")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  vigie %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "« vigie help COMMANDE » donne ses arguments, « vigie COMMANDE -h » ses options.")
	fmt.Fprintln(w, "Environnement : EVENTSTORE_URL, REDIS_URL, VIGIE_DATA, VIGIE_HTTP_ADDR (l'adresse et le port du tableau de bord, comme --http), VIGIE_*_ADDR (plusieurs instances : a,b), VIGIE_DRAIN_DELAY, VIGIE_RESIDENT_KEK_FILE, les fournisseurs des alertes (VIGIE_SMTP_*, VIGIE_SMS_URL, …, voir le README), OTEL_*. Les options l'emportent sur l'environnement.")
}
