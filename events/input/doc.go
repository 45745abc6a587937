// Package input holds the checks every domain package makes on a command's
// fields (texts, ids, the actor, positions, a commune's domain) and the error
// that names the wrong field. Each domain passes its own invalid-input family,
// so its errors match events.ErrInvalidInput and errors.Is still tells the
// families apart; their words are French, as every message a person reads.
//
// Texts and ids refuse the characters that are not seen but change how a text
// reads (bidirectional overrides, zero-width characters: see Invisible), since
// every text a command carries is shown to others or published.
package input
