package events

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Event ids are UUIDs. The core reads and writes them with the standard library alone;
// what it accepts and how it writes them are those of github.com/google/uuid (Parse and
// String), which the store client and the command package use: a test of the command
// module compares the two.

// newUUID returns a random (version 4, RFC 4122 variant) UUID in canonical form.
func newUUID() string {
	var id [16]byte
	rand.Read(id[:]) // never fails (crypto/rand)
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return formatUUID(id)
}

// formatUUID writes id in canonical form: 36 lower-case characters, dashes at 8, 13,
// 18 and 23.
func formatUUID(id [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:], id[10:])
	return string(b[:])
}

// parseUUID accepts what uuid.Parse accepts, of any version or variant: the canonical
// form in either case, the same prefixed by "urn:uuid:" (any case) or with one more
// character at each end ("{...}", the characters themselves unchecked), and the 32 hex
// digits without dashes.
func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	switch len(s) {
	case 36:
	case 36 + 9:
		if !strings.EqualFold(s[:9], "urn:uuid:") {
			return id, false
		}
		s = s[9:]
	case 36 + 2:
		s = s[1:]
	case 32:
		for i := range id {
			b, ok := hexByte(s[2*i], s[2*i+1])
			if !ok {
				return id, false
			}
			id[i] = b
		}
		return id, true
	default:
		return id, false
	}
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	for i, x := range [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34} {
		b, ok := hexByte(s[x], s[x+1])
		if !ok {
			return id, false
		}
		id[i] = b
	}
	return id, true
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexDigit(hi)
	l, ok2 := hexDigit(lo)
	return h<<4 | l, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
