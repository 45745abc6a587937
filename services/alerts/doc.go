// Package alerts is the alerts service: drafting, the mayor's approval, FR-Alert requests, CAP 1.2; built by its own issue.
package alerts
