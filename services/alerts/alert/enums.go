package alert

import (
	"strconv"
	"strings"
)

// The enumerations are the contract's (vigie/events/alert, aliased in
// contract.go); these read them in any letter case, so the contract's
// UPPER_SNAKE enum values read as well as the stored ones.

func ParseChannel(s string) (Channel, error)     { return parse("channel", s, Channels()) }
func ParseSeverity(s string) (Severity, error)   { return parse("severity", s, Severities()) }
func ParseUrgency(s string) (Urgency, error)     { return parse("urgency", s, Urgencies()) }
func ParseCertainty(s string) (Certainty, error) { return parse("certainty", s, Certainties()) }
func ParseCategory(s string) (Category, error)   { return parse("category", s, Categories()) }
func ParseMsgType(s string) (MsgType, error)     { return parse("msgType", s, MsgTypes()) }
func ParseStatus(s string) (Status, error)       { return parse("status", s, Statuses()) }

// parse finds s among known ignoring letter case: every stored form and the
// contract's form differ only by case.
func parse[T ~string](field, s string, known []T) (T, error) {
	for _, k := range known {
		if strings.EqualFold(s, string(k)) {
			return k, nil
		}
	}
	return "", invalid(field, "valeur inconnue "+strconv.Quote(s))
}
