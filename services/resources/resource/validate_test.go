package resource_test

import (
	"errors"
	"testing"

	"vigie/services/resources/resource"
)

func TestValidateCommuneDomain(t *testing.T) {
	valid := []string{
		"dep:30/com:30189", // Nîmes
		"dep:30/com:30007", // Alès
		"dep:01/com:01001",
		"dep:95/com:95690",
		"dep:2A/com:2A004", // Ajaccio
		"dep:2B/com:2B033", // Bastia
		"dep:971/com:97101",
		"dep:976/com:97601",
	}
	for _, d := range valid {
		if err := resource.ValidateCommuneDomain(d); err != nil {
			t.Errorf("ValidateCommuneDomain(%q) = %v, want nil", d, err)
		}
	}
	invalid := []string{
		"",
		"dep:30",            // a département
		"dep:30/*",          // a prefecture's grant
		"com:30189",         // no département
		"dep:30/com:3018",   // four digits
		"dep:30/com:301890", // six
		"dep:30/com:13047",  // Istres is in the Bouches-du-Rhône
		"dep:30/com:30000",  // no commune number 000
		"dep:20/com:20004",  // Corsica has been 2A and 2B since 1976
		"dep:2a/com:2a004",  // codes are upper case
		"dep:00/com:00001",
		"dep:96/com:96001",
		"dep:979/com:97901",
		"dep:30/com:30a89",
		"dep:30/com:30189/x",
		" dep:30/com:30189",
		"DEP:30/COM:30189",
		"dep:30/epci:243000643",
	}
	for _, d := range invalid {
		err := resource.ValidateCommuneDomain(d)
		if !errors.Is(err, resource.ErrInvalidDomain) || !errors.Is(err, resource.ErrInvalidInput) {
			t.Errorf("ValidateCommuneDomain(%q) = %v, want ErrInvalidDomain", d, err)
		}
	}
}
