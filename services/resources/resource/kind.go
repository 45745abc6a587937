package resource

import "fmt"

// ParseKind reads a kind as events write it ("shelter"); the gateway lowers
// GraphQL's enum values (SHELTER) before calling it.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); k.Valid() {
		return k, nil
	}
	return "", fmt.Errorf("%w : %q", ErrUnknownKind, s)
}

// ParseStatus reads a status as events write it ("available").
func ParseStatus(s string) (Status, error) {
	if st := Status(s); st.Valid() {
		return st, nil
	}
	return "", fmt.Errorf("%w : %q", ErrUnknownStatus, s)
}
