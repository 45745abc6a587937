package resource_test

import (
	"errors"
	"strings"
	"testing"

	"vigie/services/resources/resource"
)

// From the attacker's side (issue 14, point 8): a resource's name is on every
// board of the commune and of the prefecture. With a right-to-left override or a
// zero-width space, "Motopompe 12" and another resource look the same, or one reads
// otherwise than it is: refused as invalid input that names the character.
func TestANameWithAnInvisibleOrDirectionCharacterIsRefused(t *testing.T) {
	for _, c := range []struct{ name, char string }{
		{"Motopompe \u202e21", "U+202E"},
		{"Moto\u200bpompe 12", "U+200B"},
		{"Motopompe \u206612\u2069", "U+2066"},
		{"\ufeffMotopompe 12", "U+FEFF"},
	} {
		cmd := resource.Registration{ResourceID: "pump-12", Domain: nimes, Kind: resource.KindEquipment, Name: c.name}
		got, err := given().Register(cmd, rac, at)
		if !errors.Is(err, resource.ErrInvalidInput) || got != nil {
			t.Errorf("name %q: events %v, error %v; want invalid input", c.name, got, err)
			continue
		}
		if !strings.Contains(err.Error(), c.char) || !strings.Contains(err.Error(), "name") {
			t.Errorf("name %q: the error %q should name the field and %s", c.name, err, c.char)
		}
	}
	// What French names hold still passes: accents, no-break spaces, the soft hyphen.
	cmd := resource.Registration{ResourceID: "gym", Domain: nimes, Kind: resource.KindShelter, Capacity: 80, Name: "Gymnase Jean-Jaurès\u00a0– Pré\u00adfecture"}
	if _, err := given().Register(cmd, rac, at); err != nil {
		t.Errorf("a French name refused: %v", err)
	}
}
