package resident

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vigie/events"
	"vigie/services/alerts/alert"
)

// ConsentText is what a resident accepts by registering; the event keeps the
// text as it was when they accepted it.
const ConsentText = "J'accepte que ma commune conserve mon numéro de téléphone, mon adresse électronique " +
	"et ma localisation pour m'alerter en cas de risque majeur, par les canaux que j'ai choisis. " +
	"Ces données sont chiffrées ; je peux demander à tout moment leur effacement définitif."

// ExercisesConsentText is what a resident who takes part in exercises accepts
// besides ConsentText: the event keeps both, so the log shows what they
// agreed to.
const ExercisesConsentText = "J'accepte aussi de recevoir les messages des exercices de sécurité civile de ma commune, " +
	"toujours marqués « EXERCICE »."

// Point is a WGS 84 position, the one alert areas are drawn with.
type Point = alert.Point

// Contact is the personal data of a resident: it only ever appears sealed.
type Contact struct {
	Phone    string `json:"phone,omitempty"` // E.164, "+33612345678"
	Email    string `json:"email,omitempty"`
	Location Point  `json:"location"`
}

// Bounds of the inputs.
const (
	MaxIDLen    = 128
	MaxEmailLen = 254 // RFC 5321's path limit
)

// DefaultLanguage is the language of a resident who names none.
const DefaultLanguage = alert.DefaultLanguage

// Registration is what a resident gives, with the id the caller chose.
// Channels are contract channel names, in any letter case.
type Registration struct {
	ResidentID string
	Domain     string
	Contact    Contact
	Channels   []string
	Language   string
	Consent    bool
	// Exercises: the resident agrees to receive exercise messages too. Without
	// it, no exercise ever reaches them.
	Exercises bool
}

// Validate checks the registration as Register would, without a key: the
// caller makes the key only for a registration that can succeed.
func (r Registration) Validate() error {
	_, err := r.normalised()
	return err
}

// normalised returns the registration as the event records it: channels in
// the contract's form, phone in E.164, the default language filled in.
func (r Registration) normalised() (Registration, error) {
	if !r.Consent {
		return Registration{}, ErrNoConsent
	}
	if err := validID(r.ResidentID); err != nil {
		return Registration{}, err
	}
	if err := alert.ValidateDomain(r.Domain); err != nil {
		var ie *alert.InputError
		if errors.As(err, &ie) {
			return Registration{}, invalid(ie.Field, ie.Problem)
		}
		return Registration{}, invalid("domain", err.Error())
	}
	out := r
	var err error
	if out.Channels, err = channels(r.Channels); err != nil {
		return Registration{}, err
	}
	if out.Contact.Phone, err = phone(r.Contact.Phone); err != nil {
		return Registration{}, err
	}
	if out.Contact.Email, err = email(r.Contact.Email); err != nil {
		return Registration{}, err
	}
	if err := alert.ValidatePoint(r.Contact.Location); err != nil {
		return Registration{}, invalid("location", "position hors de la Terre")
	}
	for _, c := range out.Channels {
		switch {
		case (c == string(alert.ChannelSMS) || c == string(alert.ChannelVoice)) && out.Contact.Phone == "":
			return Registration{}, fmt.Errorf("%w : %s demande un numéro de téléphone", ErrMissingContact, c)
		case c == string(alert.ChannelEmail) && out.Contact.Email == "":
			return Registration{}, fmt.Errorf("%w : %s demande une adresse électronique", ErrMissingContact, c)
		}
	}
	if out.Language == "" {
		out.Language = DefaultLanguage
	} else if !alert.ValidLanguage(out.Language) {
		return Registration{}, invalid("language", "attendu une langue comme fr-FR")
	}
	return out, nil
}

// registrable are the channels a resident registers for. FR_ALERT (cell
// broadcast reaches every phone in the area) and CAP_FEED (public) need no
// registration.
var registrable = []alert.Channel{alert.ChannelSMS, alert.ChannelVoice, alert.ChannelEmail, alert.ChannelPush, alert.ChannelWebhook}

func channels(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, invalid("channels", "au moins un canal")
	}
	out := make([]string, 0, len(names))
	for _, name := range names {
		c, err := alert.ParseChannel(name)
		if err != nil {
			return nil, invalid("channels", "canal inconnu "+strconv.Quote(name))
		}
		if !slices.Contains(registrable, c) {
			return nil, invalid("channels", string(c)+" se passe d'inscription")
		}
		if slices.Contains(out, string(c)) {
			return nil, invalid("channels", string(c)+" donné deux fois")
		}
		out = append(out, string(c))
	}
	return out, nil
}

// phone accepts an international number (+ and 8 to 15 digits) or a French
// one (0 and 9 digits), with spaces, dots or hyphens between digits, and
// returns it in E.164. Empty stays empty.
func phone(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, s)
	switch {
	case s == "":
		return "", nil
	case strings.HasPrefix(s, "+"):
		if d := s[1:]; len(d) >= 8 && len(d) <= 15 && d[0] != '0' && digits(d) {
			return s, nil
		}
	case len(s) == 10 && s[0] == '0' && s[1] != '0' && digits(s):
		return "+33" + s[1:], nil
	}
	return "", invalid("phone", "attendu +<indicatif><numéro> (8 à 15 chiffres) ou un numéro français 0X XX XX XX XX")
}

func email(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxEmailLen {
		return "", invalid("email", "plus de "+strconv.Itoa(MaxEmailLen)+" octets")
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Name != "" || a.Address != s {
		return "", invalid("email", "attendu une adresse électronique comme nom@example.fr")
	}
	return s, nil
}

func validID(s string) error {
	switch {
	case s == "":
		return invalid("residentId", "vide")
	case len(s) > MaxIDLen:
		return invalid("residentId", "plus de "+strconv.Itoa(MaxIDLen)+" octets")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return invalid("residentId", "UTF-8 invalide, espace ou caractère de contrôle")
	}
	return nil
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Resident is the state of one resident as their stream tells it; the zero
// value is a resident not registered yet. Commands read it and never change
// it. It holds the sealed contact details, never the key.
type Resident struct {
	id           string
	domain       string
	channels     []string
	language     string
	exercises    bool
	consentAt    time.Time
	consentText  string
	sealed       []byte
	registeredBy string
	registeredAt time.Time
	erased       bool
	erasedAt     time.Time
}

// Exists reports whether the resident has registered, erased or not.
func (r *Resident) Exists() bool { return r.id != "" }

func (r *Resident) ID() string     { return r.id }
func (r *Resident) Domain() string { return r.domain }

// Channels returns a copy of the contract names of the resident's channels.
func (r *Resident) Channels() []string { return slices.Clone(r.channels) }

// Has reports whether the resident registered for channel c.
func (r *Resident) Has(c alert.Channel) bool { return slices.Contains(r.channels, string(c)) }

func (r *Resident) Language() string        { return r.language }
func (r *Resident) ConsentAt() time.Time    { return r.consentAt }
func (r *Resident) ConsentText() string     { return r.consentText }
func (r *Resident) RegisteredBy() string    { return r.registeredBy }
func (r *Resident) RegisteredAt() time.Time { return r.registeredAt }
func (r *Resident) Erased() bool            { return r.erased }
func (r *Resident) ErasedAt() time.Time     { return r.erasedAt }

// Exercises reports whether the resident agreed to receive exercise messages.
func (r *Resident) Exercises() bool { return r.exercises }

// Sealed returns a copy of the sealed contact details; nil once erased, when
// nothing can open them any more.
func (r *Resident) Sealed() []byte { return slices.Clone(r.sealed) }

// Contact opens the resident's contact details with their key.
func (r *Resident) Contact(key []byte) (Contact, error) {
	switch {
	case !r.Exists():
		return Contact{}, ErrNotFound
	case r.erased:
		return Contact{}, ErrErased
	}
	return Open(key, r.id, r.sealed)
}

// Apply evolves the resident by one event of their stream. Events of other
// types are ignored; Apply copies what it keeps.
func (r *Resident) Apply(e events.Event) {
	switch e := e.(type) {
	case ResidentRegistered:
		r.id, r.domain, r.language = e.ResidentID, e.Domain, e.Language
		r.channels, r.sealed = slices.Clone(e.Channels), slices.Clone(e.Sealed)
		r.exercises = e.Exercises
		r.consentAt, r.consentText = e.ConsentAt, e.ConsentText
		r.registeredBy, r.registeredAt = e.By, e.At
	case ResidentErased:
		r.erased, r.erasedAt, r.sealed = true, e.At, nil
	}
}

// Register records a registration, its contact details sealed with key. The
// caller writes ResidentKeyIssued{ResidentID, key} to KeyStreamID first: a
// registration whose key is missing reads as erased.
func (r *Resident) Register(reg Registration, key []byte, by events.Actor, at time.Time) ([]events.Event, error) {
	if err := actor(by, at); err != nil {
		return nil, err
	}
	if r.Exists() {
		return nil, ErrAlreadyRegistered
	}
	reg, err := reg.normalised()
	if err != nil {
		return nil, err
	}
	sealed, err := Seal(key, reg.ResidentID, reg.Contact)
	if err != nil {
		return nil, err
	}
	consent := ConsentText
	if reg.Exercises {
		consent += " " + ExercisesConsentText
	}
	return []events.Event{ResidentRegistered{
		ResidentID: reg.ResidentID, Domain: reg.Domain, Channels: reg.Channels, Language: reg.Language, Exercises: reg.Exercises,
		ConsentAt: at, ConsentText: consent, Sealed: sealed, By: by.Subject, At: at,
	}}, nil
}

// Erase forgets the resident; the caller then tombstones KeyStreamID.
func (r *Resident) Erase(by events.Actor, at time.Time) ([]events.Event, error) {
	if err := actor(by, at); err != nil {
		return nil, err
	}
	switch {
	case !r.Exists():
		return nil, ErrNotFound
	case r.erased:
		return nil, ErrAlreadyErased
	}
	return []events.Event{ResidentErased{By: by.Subject, At: at}}, nil
}

// actor checks what the runtime passes with every command.
func actor(by events.Actor, at time.Time) error {
	switch {
	case by.Subject == "":
		return invalid("by", "personne sans identifiant")
	case !slices.Contains(events.Roles, by.Role):
		return invalid("by", "rôle inconnu "+strconv.Quote(by.Role))
	case at.IsZero():
		return invalid("at", "heure manquante")
	}
	return nil
}
