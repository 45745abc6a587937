// Package check verifies the deployment files of infra/: every YAML file parses, every
// environment variable they set or read is documented, every image is one infra/README.md
// names, and every `vigie serve <component>` they run exists in the command table.
// scripts/check-infra runs its tests; it is a module of its own so that the YAML parser
// stays out of Vigie's modules.
package check
