package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vigie/events/embedded"
)

// userStdin is where --password-stdin reads; tests replace it.
var userStdin io.Reader = os.Stdin

// eventstoreUser is `vigie eventstore user add|passwd|remove NAME --data DIR`: it edits
// the users file of the embedded store in DIR/eventstore (users.json, 0600, salted
// PBKDF2 hashes). It works whether the store is served or not: the file is replaced
// atomically, and a serving store re-reads it within a second of the change (no
// signal needed). add and passwd take the password from the first line of stdin with
// --password-stdin, or generate one and print it, once, on stdout. remove refuses to
// remove the last user. --groups gives the user its groups (the roles that stream ACLs
// and policies name: the Vigie services' accounts are in the group storeGroup, storeaccess.go).
func eventstoreUser(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigie "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDefault(), "data directory whose event store (DIR/eventstore) has the users (env VIGIE_DATA)")
	fromStdin, groups := false, ""
	verb := name[strings.LastIndexByte(name, ' ')+1:]
	if verb != "remove" {
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of generating one")
		fs.StringVar(&groups, "groups", "", "comma-separated groups of the user (its roles in stream ACLs and policies, e.g. "+storeGroup+"; $admins makes an admin); passwd keeps them unless given")
	}
	// NAME may come before or after the flags.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "vigie %s: missing user NAME\n", name)
		return exitUsage
	}
	user := fs.Arg(0)
	if code, ok := parseFlags(fs, name, fs.Args()[1:], stderr); !ok {
		return code
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "vigie %s: %v\n", name, err); return exitError }
	storeDir, err := filepath.Abs(filepath.Join(*data, "eventstore"))
	if err != nil {
		return fail(err)
	}
	path := filepath.Join(storeDir, embedded.UsersFile)
	list, err := embedded.ReadUserList(path)
	if err != nil && !(errors.Is(err, os.ErrNotExist) && verb == "add") {
		return fail(err)
	}
	var password string
	switch verb {
	case "add", "passwd":
		if exists := list.Has(user); verb == "add" && exists {
			return fail(fmt.Errorf("user %q exists: vigie eventstore user passwd changes its password", user))
		} else if verb == "passwd" && !exists {
			return fail(fmt.Errorf("no user %q", user))
		}
		if fromStdin {
			line, err := bufio.NewReader(userStdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fail(err)
			}
			if password = strings.TrimRight(line, "\r\n"); password == "" {
				return fail(errors.New("empty password on stdin"))
			}
		} else if password, err = embedded.NewPassword(); err != nil {
			return fail(err)
		}
		if err := list.Set(user, password); err != nil {
			return fail(err)
		}
		if groups != "" {
			if err := list.SetGroups(user, strings.Split(groups, ",")); err != nil {
				return fail(err)
			}
		}
	case "remove":
		if err := list.Remove(user); err != nil {
			return fail(err)
		}
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return fail(err)
	}
	if err := list.Write(path); err != nil {
		return fail(err)
	}
	if verb != "remove" && !fromStdin {
		fmt.Fprintln(stdout, password) // once: it is stored only hashed
	}
	fmt.Fprintf(stderr, "vigie %s: %s: done in %s (a serving store takes it within a second)\n", name, user, path)
	return exitOK
}
