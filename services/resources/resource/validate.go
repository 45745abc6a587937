package resource

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
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
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// ValidateCommuneDomain accepts a commune's authorization domain,
// "dep:<département>/com:<INSEE code>", where the INSEE code starts with the
// département's code: dep:30/com:30189, dep:2A/com:2A004, dep:971/com:97101.
// A département's domain alone (dep:30) is refused: resources and
// reinforcement requests belong to a commune.
func ValidateCommuneDomain(domain string) error {
	dep, com, ok := strings.Cut(domain, "/")
	dep, okDep := strings.CutPrefix(dep, "dep:")
	com, okCom := strings.CutPrefix(com, "com:")
	if !ok || !okDep || !okCom || !validDepartement(dep) || !validCommune(dep, com) {
		return fmt.Errorf("%w: %q", ErrInvalidDomain, domain)
	}
	return nil
}

// validDepartement accepts 01–95 but 20 (split into 2A and 2B in 1976), 2A,
// 2B, and the overseas codes 971–978.
func validDepartement(dep string) bool {
	switch {
	case dep == "2A" || dep == "2B":
		return true
	case len(dep) == 2 && digits(dep):
		return dep != "00" && dep != "20" && dep <= "95"
	case len(dep) == 3 && digits(dep):
		return dep >= "971" && dep <= "978"
	}
	return false
}

// validCommune accepts a five-character INSEE code made of the département's
// code and a number other than zero.
func validCommune(dep, com string) bool {
	n, ok := strings.CutPrefix(com, dep)
	return ok && len(com) == 5 && digits(n) && strings.Trim(n, "0") != ""
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
