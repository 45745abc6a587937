// Package graph is the GraphQL gateway (gqlgen) that serves the crisis-cell dashboard and the prefecture; built by its own issue.
package graph
