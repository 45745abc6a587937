// Command gen writes the dashboard's generated ES modules (labels.gen.js from
// vigie/events/labels, permissions.gen.js from policies/policy.csv) into a
// directory. Run by scripts/generate-dashboard.
//
//	go run ./graph/dashboard/modules/gen -out graph/dashboard/static/assets
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"vigie/graph/dashboard/modules"
)

func main() {
	out := flag.String("out", "graph/dashboard/static/assets", "the dashboard's assets directory")
	flag.Parse()
	files, err := modules.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(*out, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println(p)
	}
}
