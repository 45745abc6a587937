// Package resident is the pure domain of residents' voluntary registration
// for alerts. Their contact details are sealed in the events with a key of
// their own, kept apart; erasing a resident destroys the key, and the log,
// intact, no longer says anything about them (crypto-shredding).
package resident
