package resource

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"vigie/events/input"
	"vigie/events/territory"
)

// Limits of the inputs.
const (
	MaxIDLen    = 128    // bytes, for resource and incident ids
	MaxNameLen  = 200    // characters (runes)
	MaxCapacity = 100000 // people in one shelter
)

// validID accepts the ids that make valid stream names and read-model keys.
func validID(id string) bool {
	return id != "" && len(id) <= MaxIDLen && printable(id)
}

// printable refuses invalid UTF-8 and control characters (newlines included):
// names and ids are shown on one line of the boards.
// printable: valid UTF-8 without control characters nor invisible ones (bidi
// overrides, zero-width: a name shown to others must read as it was written).
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || input.Invisible(r) })
}

// ValidateCommuneDomain accepts a commune's authorization domain,
// "dep:<département>/com:<INSEE code>", by input.CommuneDomain's rules (those
// of policies/territory): dep:30/com:30189, dep:2A/com:2A004, dep:971/com:97101.
// A département's domain alone (dep:30) is refused: resources and
// reinforcement requests belong to a commune. So is a commune numbered 000,
// which INSEE never assigns.
func ValidateCommuneDomain(domain string) error {
	if input.CommuneDomain(ErrInvalidInput, domain) != nil || communeZero(domain) {
		return fmt.Errorf("%w : %q", ErrInvalidDomain, domain)
	}
	return nil
}

// communeZero reports whether a valid commune domain names commune 000 of its
// département (dep:30/com:30000).
func communeZero(domain string) bool {
	d, _ := territory.Parse(domain)
	return strings.Trim(strings.TrimPrefix(d.Commune, d.Departement), "0") == ""
}
