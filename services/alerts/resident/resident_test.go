package resident

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/events"
)

// A resident of the Écusson in Nîmes registers for SMS and e-mail alerts.

func at(minutes int) time.Time {
	return time.Date(2026, 9, 1, 18, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

const nimes = "dep:30/com:30189"

var (
	self     = events.Actor{Subject: "sub-resident-7f3a", Role: events.RoleObserver}
	operator = events.Actor{Subject: "sub-operator-30189", Role: events.RoleOperator}
)

func key(t *testing.T) []byte {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func contact() Contact {
	return Contact{Phone: "06 12 34 56 78", Email: "claire.martin@example.fr", Location: Point{Lat: 43.8377, Lon: 4.3589}}
}

func registration() Registration {
	return Registration{ResidentID: "res-1", Domain: nimes, Contact: contact(), Channels: []string{"sms", "EMAIL"}, Consent: true}
}

func registered(t *testing.T, k []byte) ResidentRegistered {
	t.Helper()
	c := contact()
	c.Phone = "+33612345678"
	sealed, err := Seal(k, "res-1", c)
	if err != nil {
		t.Fatal(err)
	}
	return ResidentRegistered{
		ResidentID: "res-1", Domain: nimes, Channels: []string{"SMS", "EMAIL"}, Language: "fr-FR",
		ConsentAt: at(0), ConsentText: ConsentText, Sealed: sealed, By: self.Subject, At: at(0),
	}
}

func build(history ...events.Event) *Resident {
	var r Resident
	for _, e := range history {
		r.Apply(e)
	}
	return &r
}

// decide runs a command and fails the test if it changed the resident.
func decide(t *testing.T, r *Resident, when func(*Resident) ([]events.Event, error)) ([]events.Event, error) {
	t.Helper()
	untouched := *r
	got, err := when(r)
	if !reflect.DeepEqual(*r, untouched) {
		t.Errorf("the command changed the resident")
	}
	return got, err
}

func TestRegisterSealsTheContactDetails(t *testing.T) {
	k := key(t)
	r := build()
	got, err := decide(t, r, func(r *Resident) ([]events.Event, error) { return r.Register(registration(), k, self, at(0)) })
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("events = %#v", got)
	}
	e, ok := got[0].(ResidentRegistered)
	if !ok {
		t.Fatalf("event = %#v", got[0])
	}
	c, err := Open(k, "res-1", e.Sealed)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := registered(t, k)
	if wantContact, _ := Open(k, "res-1", want.Sealed); c != wantContact {
		t.Errorf("sealed contact = %+v, want %+v", c, wantContact)
	}
	want.Sealed = e.Sealed // random nonce: compared opened, above
	if !reflect.DeepEqual(e, want) {
		t.Errorf("event:\n got %#v\nwant %#v", e, want)
	}
	for _, clear := range []string{"612345678", "claire", "43.83"} {
		if bytes.Contains(e.Sealed, []byte(clear)) {
			t.Errorf("sealed data shows %q", clear)
		}
	}

	r.Apply(e)
	if !r.Exists() || r.ID() != "res-1" || r.Domain() != nimes || !slices.Equal(r.Channels(), []string{"SMS", "EMAIL"}) ||
		r.Language() != "fr-FR" || !r.ConsentAt().Equal(at(0)) || r.ConsentText() != ConsentText || r.RegisteredBy() != self.Subject || r.Erased() {
		t.Errorf("resident = %+v", r)
	}
	if got, err := r.Contact(k); err != nil || got.Phone != "+33612345678" || got.Email != "claire.martin@example.fr" {
		t.Errorf("Contact = %+v, %v", got, err)
	}
}

func TestRegisterKeepsTheLanguageAndOnlyTheNeededContact(t *testing.T) {
	k := key(t)
	reg := Registration{ResidentID: "res-2", Domain: nimes, Channels: []string{"PUSH"}, Language: "en-GB", Consent: true,
		Contact: Contact{Location: Point{Lat: 43.84, Lon: 4.36}}}
	got, err := build().Register(reg, k, operator, at(5))
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	e := got[0].(ResidentRegistered)
	if e.Language != "en-GB" || !slices.Equal(e.Channels, []string{"PUSH"}) || e.By != operator.Subject {
		t.Errorf("event = %+v", e)
	}
	if c, err := Open(k, "res-2", e.Sealed); err != nil || c != reg.Contact {
		t.Errorf("contact = %+v, %v", c, err)
	}
}

// Exercises reach only residents who said yes to them: the event records the
// choice and the text they accepted; saying nothing is no.
func TestOnlyAnExplicitChoiceTakesPartInExercises(t *testing.T) {
	k := key(t)
	got, err := build().Register(registration(), k, self, at(0))
	if err != nil {
		t.Fatal(err)
	}
	e := got[0].(ResidentRegistered)
	if r := build(e); e.Exercises || r.Exercises() || strings.Contains(e.ConsentText, ExercisesConsentText) {
		t.Errorf("a registration that says nothing of exercises takes part: %+v", e)
	}
	reg := registration()
	reg.Exercises = true
	got, err = build().Register(reg, k, self, at(0))
	if err != nil {
		t.Fatal(err)
	}
	e = got[0].(ResidentRegistered)
	if r := build(e); !e.Exercises || !r.Exercises() || e.ConsentText != ConsentText+" "+ExercisesConsentText {
		t.Errorf("the resident's yes to exercises is not recorded: %+v", e)
	}
	// A registration written before the field existed never agreed.
	r := events.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	env, err := r.Encode(context.Background(), registered(t, k), events.NewMetadata("cmd-1", self, nimes, at(0)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env.Data, []byte("exercises")) {
		t.Errorf("a registration without exercises writes the key: %s", env.Data)
	}
	old, _, err := r.Decode(env.Type, env.Data, env.Metadata)
	if err != nil || old.(ResidentRegistered).Exercises {
		t.Errorf("an old registration decodes as taking part in exercises: %+v, %v", old, err)
	}
}

func TestEraseForgetsTheResident(t *testing.T) {
	k := key(t)
	r := build(registered(t, k))
	got, err := decide(t, r, func(r *Resident) ([]events.Event, error) { return r.Erase(self, at(60)) })
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if want := []events.Event{ResidentErased{By: self.Subject, At: at(60)}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %#v, want %#v", got, want)
	}
	r.Apply(got[0])
	if !r.Erased() || !r.ErasedAt().Equal(at(60)) || r.Sealed() != nil {
		t.Errorf("resident after erasure = %+v", r)
	}
	if _, err := r.Contact(k); !errors.Is(err, ErrErased) {
		t.Errorf("Contact after erasure = %v, want ErrErased", err)
	}
	// The log still holds the sealed blob; without the key it is nothing.
	if _, err := Open(nil, "res-1", registered(t, k).Sealed); !errors.Is(err, ErrErased) {
		t.Errorf("Open without a key = %v, want ErrErased", err)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	k := key(t)
	with := func(change func(*Registration)) Registration { r := registration(); change(&r); return r }
	tests := []struct {
		name  string
		reg   Registration
		want  error
		field string
	}{
		{"no consent", with(func(r *Registration) { r.Consent = false }), ErrNoConsent, ""},
		{"SMS without phone", with(func(r *Registration) { r.Contact.Phone = "" }), ErrMissingContact, ""},
		{"VOICE without phone", with(func(r *Registration) { r.Contact.Phone = ""; r.Channels = []string{"VOICE"} }), ErrMissingContact, ""},
		{"EMAIL without e-mail", with(func(r *Registration) { r.Contact.Email = "" }), ErrMissingContact, ""},
		{"empty id", with(func(r *Registration) { r.ResidentID = "" }), ErrInvalidInput, "residentId"},
		{"id with a space", with(func(r *Registration) { r.ResidentID = "res 1" }), ErrInvalidInput, "residentId"},
		{"id too long", with(func(r *Registration) { r.ResidentID = strings.Repeat("r", MaxIDLen+1) }), ErrInvalidInput, "residentId"},
		{"département domain", with(func(r *Registration) { r.Domain = "dep:30" }), ErrInvalidInput, "domain"},
		{"no channel", with(func(r *Registration) { r.Channels = nil }), ErrInvalidInput, "channels"},
		{"unknown channel", with(func(r *Registration) { r.Channels = []string{"FAX"} }), ErrInvalidInput, "channels"},
		{"FR_ALERT", with(func(r *Registration) { r.Channels = []string{"FR_ALERT"} }), ErrInvalidInput, "channels"},
		{"CAP_FEED", with(func(r *Registration) { r.Channels = []string{"cap_feed"} }), ErrInvalidInput, "channels"},
		{"channel twice", with(func(r *Registration) { r.Channels = []string{"SMS", "sms"} }), ErrInvalidInput, "channels"},
		{"phone too short", with(func(r *Registration) { r.Contact.Phone = "+3361234" }), ErrInvalidInput, "phone"},
		{"phone too long", with(func(r *Registration) { r.Contact.Phone = "+3361234567890123" }), ErrInvalidInput, "phone"},
		{"phone with letters", with(func(r *Registration) { r.Contact.Phone = "06 12 34 AB 78" }), ErrInvalidInput, "phone"},
		{"French phone of 9 digits", with(func(r *Registration) { r.Contact.Phone = "061234567" }), ErrInvalidInput, "phone"},
		{"phone 00", with(func(r *Registration) { r.Contact.Phone = "0012345678" }), ErrInvalidInput, "phone"},
		{"e-mail without domain", with(func(r *Registration) { r.Contact.Email = "claire" }), ErrInvalidInput, "email"},
		{"e-mail with a name", with(func(r *Registration) { r.Contact.Email = "Claire <claire@example.fr>" }), ErrInvalidInput, "email"},
		{"e-mail too long", with(func(r *Registration) { r.Contact.Email = strings.Repeat("c", 250) + "@example.fr" }), ErrInvalidInput, "email"},
		{"location off Earth", with(func(r *Registration) { r.Contact.Location.Lat = 95 }), ErrInvalidInput, "location"},
		{"language", with(func(r *Registration) { r.Language = "fr_FR" }), ErrInvalidInput, "language"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.reg.Validate(); !errors.Is(err, tt.want) {
				t.Errorf("Validate = %v, want %v", err, tt.want)
			}
			got, err := decide(t, build(), func(r *Resident) ([]events.Event, error) { return r.Register(tt.reg, k, self, at(0)) })
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("Register = %v, %v, want %v", got, err, tt.want)
			}
			var ie *InputError
			if tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, events.ErrInvalidInput)) {
				t.Errorf("error = %v, want field %q", err, tt.field)
			}
			for _, c := range []string{"612345678", "claire"} {
				if strings.Contains(err.Error(), c) {
					t.Errorf("the error %q shows personal data", err)
				}
			}
		})
	}
}

func TestPhoneNumbersAreStoredInE164(t *testing.T) {
	for in, want := range map[string]string{
		"06 12 34 56 78":    "+33612345678",
		"04.66.76.70.01":    "+33466767001",
		"+33 6 12 34 56 78": "+33612345678",
		"+590690123456":     "+590690123456",
		"+4915123456789":    "+4915123456789",
		"":                  "",
	} {
		if got, err := phone(in); err != nil || got != want {
			t.Errorf("phone(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

func TestCommandRefusals(t *testing.T) {
	k := key(t)
	history := registered(t, k)
	t.Run("registering twice", func(t *testing.T) {
		if _, err := decide(t, build(history), func(r *Resident) ([]events.Event, error) { return r.Register(registration(), k, self, at(1)) }); !errors.Is(err, ErrAlreadyRegistered) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("erasing nobody", func(t *testing.T) {
		_, err := decide(t, build(), func(r *Resident) ([]events.Event, error) { return r.Erase(self, at(1)) })
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, events.ErrNotFound) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("erasing twice", func(t *testing.T) {
		if _, err := decide(t, build(history, ResidentErased{By: self.Subject, At: at(60)}), func(r *Resident) ([]events.Event, error) { return r.Erase(self, at(61)) }); !errors.Is(err, ErrAlreadyErased) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("registering without a key", func(t *testing.T) {
		if _, err := build().Register(registration(), nil, self, at(0)); !errors.Is(err, ErrErased) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("actor", func(t *testing.T) {
		for name, tc := range map[string]struct {
			by events.Actor
			at time.Time
		}{
			"no subject":   {events.Actor{Role: events.RoleObserver}, at(0)},
			"unknown role": {events.Actor{Subject: "x", Role: "resident"}, at(0)},
			"zero time":    {self, time.Time{}},
		} {
			if _, err := build().Register(registration(), k, tc.by, tc.at); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("%s: Register = %v", name, err)
			}
			if _, err := build(history).Erase(tc.by, tc.at); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("%s: Erase = %v", name, err)
			}
		}
	})
}

func TestSealedContactOpensOnlyForItsResidentWithItsKey(t *testing.T) {
	k := key(t)
	sealed, err := Seal(k, "res-1", contact())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Open(k, "res-1", sealed); err != nil || got != contact() {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	again, _ := Seal(k, "res-1", contact())
	if bytes.Equal(sealed, again) {
		t.Error("two seals of the same contact are equal: the nonce is not random")
	}
	if _, err := Open(key(t), "res-1", sealed); !errors.Is(err, ErrUnreadable) {
		t.Errorf("another key: %v, want ErrUnreadable", err)
	}
	if _, err := Open(k, "res-2", sealed); !errors.Is(err, ErrUnreadable) {
		t.Errorf("copied to another resident: %v, want ErrUnreadable", err)
	}
	tampered := slices.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := Open(k, "res-1", tampered); !errors.Is(err, ErrUnreadable) {
		t.Errorf("tampered: %v, want ErrUnreadable", err)
	}
	if _, err := Open(k, "res-1", sealed[:10]); !errors.Is(err, ErrUnreadable) {
		t.Errorf("truncated: %v, want ErrUnreadable", err)
	}
	if _, err := Open(nil, "res-1", sealed); !errors.Is(err, ErrErased) {
		t.Errorf("no key: %v, want ErrErased", err)
	}
	if _, err := Seal(k[:16], "res-1", contact()); err == nil {
		t.Error("a 128-bit key is accepted")
	}
}

func TestNewKeysAreAES256AndDistinct(t *testing.T) {
	a, b := key(t), key(t)
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Errorf("keys %x %x", a, b)
	}
}

func TestEventsRoundTripThroughTheRegistryInCamelCase(t *testing.T) {
	r := events.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatalf("Register: %v", err)
	}
	k := key(t)
	for _, tt := range []struct {
		event events.Event
		keys  []string
	}{
		{registered(t, k), []string{"residentId", "domain", "channels", "language", "consentAt", "consentText", "sealed", "by", "at"}},
		{func() ResidentRegistered { e := registered(t, k); e.Exercises = true; return e }(),
			[]string{"residentId", "domain", "channels", "language", "exercises", "consentAt", "consentText", "sealed", "by", "at"}},
		{ResidentErased{By: self.Subject, At: at(60)}, []string{"by", "at"}},
		{ResidentKeyIssued{ResidentID: "res-1", Key: k}, []string{"residentId", "key"}},
	} {
		e := tt.event
		t.Run(e.EventType(), func(t *testing.T) {
			env, err := r.Encode(context.Background(), e, events.NewMetadata("cmd-1", self, nimes, at(0)))
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if v, _ := r.Version(e.EventType()); v != 1 {
				t.Errorf("version %d", v)
			}
			got, _, err := r.Decode(env.Type, env.Data, env.Metadata)
			if err != nil || !reflect.DeepEqual(got, e) {
				t.Errorf("decoded %#v, %v\n   want %#v", got, err, e)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(env.Data, &raw); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(raw)); !slices.Equal(got, slices.Sorted(slices.Values(tt.keys))) {
				t.Errorf("keys = %v, want %v", got, tt.keys)
			}
		})
	}
	if StreamID("res-1") != "resident-res-1" || KeyStreamID("res-1") != "residentkey-res-1" {
		t.Errorf("streams %s %s", StreamID("res-1"), KeyStreamID("res-1"))
	}
}
