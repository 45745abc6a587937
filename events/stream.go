package events

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Stream categories: every stream Vigie writes is <category>-<id>, and every
// category is one of these (the first five are the public contract's; the category is
// the aggregate type). Readers subscribe by Prefix(category), the event store's access
// policy gives each category its one writer (cmd/vigie/storeaccess.go).
const (
	CategoryIncident      = "incident"
	CategoryResource      = "resource"
	CategoryAlert         = "alert"
	CategoryResident      = "resident"
	CategoryRole          = "role"          // its id is an authorization domain, e.g. dep:30/com:30189
	CategoryReinforcement = "reinforcement" // a commune's request to the prefecture
	CategoryResidentKey   = "residentkey"   // a resident's wrapped key (crypto-shredding)
	CategoryDispatch      = "dispatch"      // an alert's sending, message by message
	CategorySecurity      = "security"      // the security journal, by département
)

// Prefix is what the names of a category's streams start with: "incident-".
func Prefix(category string) string { return category + "-" }

// MaxStreamIDLen bounds stream ids in bytes; ids are keys in the log's index
// and in read models, and no Vigie id comes near it.
const MaxStreamIDLen = 512

// Each stream id error wraps ErrInvalidStreamID.
var (
	ErrInvalidStreamID     = errors.New("events: invalid stream id")
	ErrEmptyStreamID       = fmt.Errorf("%w: empty", ErrInvalidStreamID)
	ErrSystemStreamID      = fmt.Errorf("%w: names starting with '$' are reserved for the event store", ErrInvalidStreamID)
	ErrStreamIDControlChar = fmt.Errorf("%w: contains NUL or a control character", ErrInvalidStreamID)
	ErrStreamIDNotUTF8     = fmt.Errorf("%w: not valid UTF-8", ErrInvalidStreamID)
	ErrStreamIDTooLong     = fmt.Errorf("%w: longer than %d bytes", ErrInvalidStreamID, MaxStreamIDLen)
)

// StreamID names the stream of one aggregate: <category>-<id>. The category
// must not contain '-'; the id may (UUIDs do), since only the first '-' splits.
func StreamID(category, id string) string {
	return category + "-" + id
}

// Category returns the part of stream before the first '-', the same split
// EventStoreDB's $by_category projection makes; "" when there is none.
func Category(stream string) string {
	category, _, ok := strings.Cut(stream, "-")
	if !ok {
		return ""
	}
	return category
}

// ValidateStreamID refuses names the event store would reserve, mangle or
// choke on. Names come from requests (ids in GraphQL arguments), so this is
// checked before any I/O.
func ValidateStreamID(s string) error {
	switch {
	case s == "":
		return ErrEmptyStreamID
	case len(s) > MaxStreamIDLen:
		return ErrStreamIDTooLong
	case s[0] == '$':
		return ErrSystemStreamID
	case !utf8.ValidString(s):
		// Stream names travel as protobuf strings, which must be UTF-8.
		return ErrStreamIDNotUTF8
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return ErrStreamIDControlChar
		}
	}
	return nil
}
