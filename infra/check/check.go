package check

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Repo is what the files are checked against.
type Repo struct {
	Docs     []string // Markdown files whose text documents variables
	Images   string   // infra/README.md, which names every image
	Commands []string // command names of cmd/vigie's table, e.g. "serve gateway"
}

// LoadRepo reads the docs and the command table of the repository at root: every
// variable must be documented inside the repository.
func LoadRepo(root string) (Repo, error) {
	var r Repo
	docs := []string{filepath.Join(root, "README.md"), filepath.Join(root, "infra", "README.md")}
	more, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, p := range append(docs, more...) {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && strings.Contains(p, "shared") {
			continue
		}
		if err != nil {
			return r, err
		}
		r.Docs = append(r.Docs, string(b))
		if p == docs[1] {
			r.Images = string(b)
		}
	}
	main, err := os.ReadFile(filepath.Join(root, "cmd", "vigie", "main.go"))
	if err != nil {
		return r, err
	}
	for _, m := range regexp.MustCompile(`\{name: "([^"]+)"`).FindAllSubmatch(main, -1) {
		r.Commands = append(r.Commands, string(m[1]))
	}
	if len(r.Commands) == 0 {
		return r, errors.New("no command table found in cmd/vigie/main.go")
	}
	return r, nil
}

// Files lists the YAML files under dir, skipping the checker's own test data.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Check returns one error per problem found in the files.
func Check(files []string, r Repo) []error {
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: invalid YAML: %w", f, err))
				break
			}
			for _, p := range r.problems(&doc) {
				errs = append(errs, fmt.Errorf("%s: %s", f, p))
			}
		}
		// Variables the files read, e.g. ${OTEL_BACKEND_ENDPOINT} or ${env:NAME}.
		for _, m := range regexp.MustCompile(`\$\{(?:env:)?([A-Z][A-Z0-9_]*)`).FindAllSubmatch(b, -1) {
			if !r.documented(string(m[1])) {
				errs = append(errs, fmt.Errorf("%s: variable %s is documented nowhere (README.md, docs/, infra/README.md)", f, m[1]))
			}
		}
	}
	return errs
}

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// problems walks one document: environment maps and lists, ConfigMap data, images and
// the vigie commands of containers and compose services.
func (r Repo) problems(n *yaml.Node) []string {
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.AliasNode:
			// The anchor's content is checked where it is defined.
		case yaml.MappingNode:
			isConfigMap := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "kind" && n.Content[i+1].Value == "ConfigMap" {
					isConfigMap = true
				}
			}
			image := ""
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				switch {
				case k.Value == "image" && v.Kind == yaml.ScalarNode:
					image = v.Value
					if !r.mentions(v.Value) {
						out = append(out, fmt.Sprintf("line %d: image %s is not named in infra/README.md", v.Line, v.Value))
					}
				case k.Value == "environment" || (k.Value == "data" && isConfigMap) || strings.HasPrefix(k.Value, "x-") && strings.HasSuffix(k.Value, "-env"):
					out = append(out, r.envProblems(v)...)
				case k.Value == "env" && v.Kind == yaml.SequenceNode:
					for _, e := range v.Content {
						for j := 0; j+1 < len(e.Content); j += 2 {
							if e.Content[j].Value == "name" {
								out = append(out, r.varProblem(e.Content[j+1])...)
							}
						}
					}
				}
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if (k.Value == "command" || k.Value == "args") && v.Kind == yaml.SequenceNode {
					out = append(out, r.commandProblems(v, image)...)
				}
				walk(v)
			}
		}
	}
	walk(n)
	return out
}

func (r Repo) envProblems(v *yaml.Node) []string {
	var out []string
	switch v.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			if v.Content[i].Value == "<<" {
				continue
			}
			out = append(out, r.varProblem(v.Content[i])...)
		}
	case yaml.SequenceNode:
		for _, e := range v.Content {
			name, _, _ := strings.Cut(e.Value, "=")
			out = append(out, r.varProblem(&yaml.Node{Value: name, Line: e.Line})...)
		}
	}
	return out
}

func (r Repo) varProblem(k *yaml.Node) []string {
	if !envName.MatchString(k.Value) {
		return []string{fmt.Sprintf("line %d: %q is not an environment variable name", k.Line, k.Value)}
	}
	if !r.documented(k.Value) {
		return []string{fmt.Sprintf("line %d: variable %s is documented nowhere (README.md, docs/, infra/README.md)", k.Line, k.Value)}
	}
	return nil
}

// commandProblems checks a container's vigie command: "serve X" must be in the table.
func (r Repo) commandProblems(v *yaml.Node, image string) []string {
	if !strings.HasPrefix(image, "vigie:") && image != "" || len(v.Content) == 0 {
		return nil
	}
	words := []string{}
	for _, c := range v.Content {
		if strings.HasPrefix(c.Value, "-") {
			break
		}
		words = append(words, c.Value)
	}
	if len(words) == 0 || (words[0] != "serve" && image == "") {
		return nil
	}
	name := strings.Join(words, " ")
	if !slices.Contains(r.Commands, name) {
		return []string{fmt.Sprintf("line %d: `vigie %s` is not a command of cmd/vigie/main.go", v.Line, name)}
	}
	return nil
}

// documented: the name appears in a doc as a word, or a documented pattern such as
// VIGIE_*_ADDR or OTEL_* covers it.
func (r Repo) documented(name string) bool {
	word := regexp.MustCompile(`(^|[^A-Z0-9_])` + name + `($|[^A-Z0-9_])`)
	patterns := regexp.MustCompile("[A-Z][A-Z0-9_]*\\*[A-Z0-9_*]*")
	for _, d := range r.Docs {
		if word.MatchString(d) {
			return true
		}
		for _, p := range patterns.FindAllString(d, -1) {
			re := "^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, "[A-Z0-9_]+") + "$"
			if regexp.MustCompile(re).MatchString(name) {
				return true
			}
		}
	}
	return false
}

func (r Repo) mentions(image string) bool { return strings.Contains(r.Images, "`"+image+"`") }
