package territory

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is returned for a string that is not a domain.
var ErrInvalid = errors.New("territory: invalid domain")

// Wildcard is the suffix of the département form written "dep:30/*"; it means
// the same as "dep:30".
const Wildcard = "/*"

// Domain is a parsed authorization domain. Commune is empty for a département.
type Domain struct {
	Departement string // "30", "2A", "971"
	Commune     string // INSEE code, "30189"; empty for the département itself
}

// String is the canonical form: "dep:30" or "dep:30/com:30189".
func (d Domain) String() string {
	if d.Commune == "" {
		return "dep:" + d.Departement
	}
	return "dep:" + d.Departement + "/com:" + d.Commune
}

// IsDepartement reports whether d names a whole département.
func (d Domain) IsDepartement() bool { return d.Commune == "" }

// Parse reads "dep:<code>", "dep:<code>/*" or "dep:<code>/com:<insee>". Codes
// are written as INSEE writes them (upper-case 2A/2B), and a commune's INSEE
// code must start with its département's code: "dep:30/com:13047" would put
// Istres under the Gard's prefecture, so it is refused rather than trusted.
func Parse(s string) (Domain, error) {
	rest, ok := strings.CutPrefix(s, "dep:")
	if !ok {
		return Domain{}, fmt.Errorf("%w: %q does not start with \"dep:\"", ErrInvalid, s)
	}
	dep, com, hasCommune := strings.Cut(rest, "/")
	if !validDepartement(dep) {
		return Domain{}, fmt.Errorf("%w: %q: no such département code", ErrInvalid, s)
	}
	if !hasCommune || com == "*" {
		return Domain{Departement: dep}, nil
	}
	insee, ok := strings.CutPrefix(com, "com:")
	if !ok || !validCommune(dep, insee) {
		return Domain{}, fmt.Errorf("%w: %q: not a commune of département %s", ErrInvalid, s, dep)
	}
	return Domain{Departement: dep, Commune: insee}, nil
}

// DepartementOf is the département's domain of a domain ("dep:30/com:30189" →
// "dep:30", "dep:30" → "dep:30"), read leniently: whatever precedes the first "/". For
// domains already checked (read models, filed events), as the read side files them.
func DepartementOf(domain string) string {
	dep, _, _ := strings.Cut(domain, "/")
	return dep
}

// IsCommune reports whether s is a commune's domain in canonical form
// ("dep:30/com:30189").
func IsCommune(s string) bool {
	d, err := Parse(s)
	return err == nil && !d.IsDepartement() && d.String() == s
}

// Canonical returns s in its canonical form ("dep:30/*" becomes "dep:30").
func Canonical(s string) (string, error) {
	d, err := Parse(s)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// Valid returns nil when s is a domain, an error wrapping ErrInvalid otherwise.
func Valid(s string) error {
	_, err := Parse(s)
	return err
}

// Covers reports whether a grant held on domain grant applies to a request
// on domain: a département covers itself and each of its communes, a commune
// covers only itself, and nothing covers another département. Anything that
// does not parse covers nothing and is covered by nothing.
//
// This is the only definition of coverage in Vigie: the authorizer gives it to
// casbin as the domain matching function and applies it to a token's grants.
func Covers(grant, domain string) bool {
	g, err := Parse(grant)
	if err != nil {
		return false
	}
	d, err := Parse(domain)
	if err != nil {
		return false
	}
	if g.Departement != d.Departement {
		return false
	}
	return g.IsDepartement() || g.Commune == d.Commune
}

// validDepartement accepts metropolitan codes 01–95 (20 was split into 2A and
// 2B in 1976) and the three-digit overseas codes 971–978 and 984–989.
func validDepartement(code string) bool {
	switch len(code) {
	case 2:
		if code == "2A" || code == "2B" {
			return true
		}
		if !digits(code) {
			return false
		}
		return code != "00" && code != "20" && code < "96"
	case 3:
		return digits(code) && (code >= "971" && code <= "978" || code >= "984" && code <= "989")
	}
	return false
}

// validCommune accepts an INSEE commune code of département dep: five
// characters, the département's code followed by digits.
func validCommune(dep, insee string) bool {
	if len(insee) != 5 {
		return false
	}
	local, ok := strings.CutPrefix(insee, dep)
	return ok && digits(local)
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
