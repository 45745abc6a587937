package incident

import (
	"strconv"
	"strings"
)

// ParseKind reads a kind in any letter case, so the contract's enum value
// (FLASH_FLOOD) reads as well as the stored one (flash_flood).
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(s))
	if !k.Valid() {
		return "", invalid("kind", "nature inconnue "+strconv.Quote(s))
	}
	return k, nil
}

// ParseSeverity reads a severity in any letter case (MINOR, Minor).
func ParseSeverity(s string) (Severity, error) {
	for _, known := range Severities() {
		if strings.EqualFold(s, string(known)) {
			return known, nil
		}
	}
	return "", invalid("severity", "gravité inconnue "+strconv.Quote(s))
}
