// Package projections is the read models in Redis fed by a catch-up subscription to the log; built by the read-side issue.
package projections
