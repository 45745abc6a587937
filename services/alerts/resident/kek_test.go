package resident_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"vigie/services/alerts/resident"
)

// A wrapped key opens with its KEK and for its resident only; a rotated
// keyring opens what the previous KEK wrapped, a retired one no longer does.
func TestAWrappedKeyOpensWithItsKEKForItsResidentOnly(t *testing.T) {
	ring, err := resident.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := resident.NewKey()
	wrapped, kekID, err := ring.Wrap("r1", key)
	if err != nil {
		t.Fatal(err)
	}
	if kekID != ring.Current() || !strings.HasPrefix(kekID, "kek-") {
		t.Fatalf("kek id %q, want the current %q", kekID, ring.Current())
	}
	if bytes.Contains(wrapped, key) {
		t.Fatal("the wrapped key holds the key")
	}
	if got, err := ring.Unwrap("r1", wrapped, kekID); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: %v", err)
	}
	// Copied into another resident's stream, it does not open.
	if _, err := ring.Unwrap("r2", wrapped, kekID); !errors.Is(err, resident.ErrUnreadable) {
		t.Errorf("another resident's id: %v, want ErrUnreadable", err)
	}
	tampered := bytes.Clone(wrapped)
	tampered[len(tampered)-1] ^= 1
	if _, err := ring.Unwrap("r1", tampered, kekID); !errors.Is(err, resident.ErrUnreadable) {
		t.Errorf("tampered: %v, want ErrUnreadable", err)
	}
	other, _ := resident.NewKeyring()
	if _, err := other.Unwrap("r1", wrapped, kekID); !errors.Is(err, resident.ErrUnknownKEK) {
		t.Errorf("another KEK file: %v, want ErrUnknownKEK", err)
	}

	rotated, err := ring.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Current() == ring.Current() || len(rotated.Previous()) != 1 || rotated.Previous()[0] != ring.Current() {
		t.Fatalf("rotated: current %s previous %v", rotated.Current(), rotated.Previous())
	}
	if got, err := rotated.Unwrap("r1", wrapped, kekID); err != nil || !bytes.Equal(got, key) {
		t.Errorf("the rotated keyring does not open what the previous KEK wrapped: %v", err)
	}
	if _, id, _ := rotated.Wrap("r1", key); id != rotated.Current() {
		t.Errorf("rotated keyring wraps under %s, want %s", id, rotated.Current())
	}
	if _, err := rotated.Retired().Unwrap("r1", wrapped, kekID); !errors.Is(err, resident.ErrUnknownKEK) {
		t.Errorf("retired: %v, want ErrUnknownKEK", err)
	}
}

func TestTheKeyringFileRoundTripsAndRefusesDamage(t *testing.T) {
	ring, _ := resident.NewKeyring()
	rotated, _ := ring.Rotated()
	data := rotated.Marshal()
	if !bytes.HasPrefix(data, []byte(resident.KEKFileMagic+"\n")) {
		t.Fatalf("file starts %q", data[:20])
	}
	back, err := resident.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Current() != rotated.Current() || strings.Join(back.Previous(), ",") != ring.Current() {
		t.Fatalf("parsed %v, want %v", back.IDs(), rotated.IDs())
	}
	// A secret manager's value: the base64 of 32 bytes alone.
	raw := make([]byte, resident.KEKSize)
	rand.Read(raw)
	bare, err := resident.ParseKeyring([]byte(base64.StdEncoding.EncodeToString(raw) + "\n"))
	if err != nil || bare.Current() != resident.KEKID(raw) {
		t.Fatalf("bare base64: %v", err)
	}
	for name, bad := range map[string]string{
		"empty":        "",
		"magic only":   resident.KEKFileMagic + "\n",
		"short key":    base64.StdEncoding.EncodeToString(raw[:16]),
		"wrong id":     resident.KEKFileMagic + "\ncurrent kek-0000000000000000 " + base64.StdEncoding.EncodeToString(raw) + "\n",
		"two currents": string(ring.Marshal()) + strings.SplitAfterN(string(rotated.Marshal()), "\n", 4)[3],
	} {
		if _, err := resident.ParseKeyring([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestKeyStreamsOfEveryGenerationNameTheirResident(t *testing.T) {
	for _, id := range []string{"r1", "a-b", "x gen", "gen2"} {
		for _, g := range []int{0, 1, 12} {
			s := resident.KeyStreamGen(id, g)
			if !strings.HasPrefix(s, resident.KeyCategory+"-") {
				t.Errorf("%s: not of the key category", s)
			}
			if got, ok := resident.ResidentOfKeyStream(s); !ok || got != id {
				if !strings.Contains(id, " ") { // resident ids never hold a space
					t.Errorf("%q → %q %v, want %q", s, got, ok, id)
				}
			}
		}
	}
	if _, ok := resident.ResidentOfKeyStream("resident-r1"); ok {
		t.Error("resident-r1 read as a key stream")
	}
}
