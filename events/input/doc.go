// Package input holds the checks every domain package makes on a command's
// fields (texts, ids, the actor, positions, a commune's domain) and the error
// that names the wrong field. Each domain passes its own invalid-input family,
// so its errors keep their prefix and still match events.ErrInvalidInput.
//
// Texts and ids refuse the characters that are not seen but change how a text
// reads (bidirectional overrides, zero-width characters: see Invisible), since
// every text a command carries is shown to others or published.
package input
