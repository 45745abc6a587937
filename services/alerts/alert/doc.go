// Package alert is the pure domain of alerts to the population: CAP content,
// the mayor's approval under the two-person rule, the prefecture's decision on
// FR-Alert, and what the dispatcher records. No I/O; time is passed in.
package alert
