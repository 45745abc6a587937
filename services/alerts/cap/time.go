package cap

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// capLayout is CAP's dateTime: seconds precision and a numeric offset. The schema's pattern
// (\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d) rejects "Z" and fractional seconds.
const capLayout = "2006-01-02T15:04:05-07:00"

// Time is a CAP dateTime. The zero Time is "absent": it is not written, which is how the
// optional effective, onset and expires stay out of a message.
type Time struct{ time.Time }

// At is a CAP time for t, cut to the second (CAP carries no fractions).
func At(t time.Time) Time { return Time{t.Truncate(time.Second)} }

// String is the CAP form; UTC is written "-00:00", as CAP 1.2 asks, never "Z" or "+00:00".
func (t Time) String() string {
	s := t.Truncate(time.Second).Format(capLayout)
	if _, off := t.Zone(); off == 0 {
		s = s[:len(s)-6] + "-00:00"
	}
	return s
}

// ParseTime reads a CAP dateTime with any numeric offset. It is as strict as the schema:
// "Z", a missing offset or fractional seconds are refused rather than guessed at, and so
// is what xs:dateTime refuses beyond CAP's pattern (year 0000, 30 February, an offset
// beyond ±14:00).
func ParseTime(s string) (Time, error) {
	if !capTimeShape(s) {
		return Time{}, fmt.Errorf("cap: time %q is not YYYY-MM-DDThh:mm:ss±hh:mm (CAP wants a numeric offset, -00:00 for UTC, no Z, no fractions)", s)
	}
	t, err := time.Parse(capLayout, s)
	if err != nil {
		return Time{}, fmt.Errorf("cap: time %q: %v", s, err)
	}
	if err := xsDateTime(s); err != nil {
		return Time{}, fmt.Errorf("cap: time %q: %v", s, err)
	}
	return Time{t}, nil
}

// xsDateTime checks what xs:dateTime, the schema's base type, refuses in a string of
// CAP's shape and time.Parse lets through: the year 0000 (XML Schema 1.0 has no year
// zero) and a time zone beyond ±14:00 or with minutes past 59. Month, day, hour, minute
// and second out of range are time.Parse's refusals already.
func xsDateTime(s string) error {
	if s[:4] == "0000" {
		return errors.New("year 0000 does not exist in xs:dateTime")
	}
	tz := s[len(s)-5:]
	h, _ := strconv.Atoi(tz[:2])
	m, _ := strconv.Atoi(tz[3:])
	if m > 59 || h*60+m > 14*60 {
		return fmt.Errorf("time zone %s is beyond ±14:00", s[len(s)-6:])
	}
	return nil
}

// MinYear is the earliest year Validate accepts in a CAP time. xs:dateTime itself
// accepts 0001 to 9999 (CAP's pattern has four digits), but no alert is about a date
// before 1000: such a year is a mistyped one (0024 for 2024), and a message carrying it
// would mislead every consumer that took it at its word.
const MinYear = 1000

// check says why t, written as Marshal writes it, would not be a CAP dateTime the
// schema accepts, or would not be the instant t is.
func (t Time) check() error {
	s := t.String()
	if !capTimeShape(s) {
		return fmt.Errorf("%s cannot be written as YYYY-MM-DDThh:mm:ss±hh:mm (a year out of 0001–9999)", s)
	}
	back, err := ParseTime(s)
	if err != nil {
		return err
	}
	// An offset with seconds (a historical zone's) is written to the minute: the
	// document would name another instant.
	if !back.Equal(t.Truncate(time.Second)) {
		_, off := t.Zone()
		return fmt.Errorf("%s: the time zone offset %ds is not a whole number of minutes, CAP cannot write it", s, off)
	}
	if t.Year() < MinYear {
		return fmt.Errorf("%s: year %d is before %d, a mistyped date", s, t.Year(), MinYear)
	}
	return nil
}

// capTimeShape checks the schema's pattern by hand: time.Parse alone would also accept
// fractional seconds the layout does not mention.
func capTimeShape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd+dd:dd"
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c, want := s[i], shape[i]
		switch want {
		case 'd':
			if c < '0' || c > '9' {
				return false
			}
		case '+':
			if c != '+' && c != '-' {
				return false
			}
		default:
			if c != want {
				return false
			}
		}
	}
	return true
}

// MarshalXML writes nothing for the zero Time, so optional times need no pointer.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if t.IsZero() {
		return nil
	}
	return e.EncodeElement(t.String(), start)
}

// UnmarshalXML reads a CAP dateTime; an empty element is the zero Time.
func (t *Time) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	// xs:dateTime collapses whitespace, so an indented value is still a valid one.
	s = strings.TrimSpace(s)
	if s == "" {
		*t = Time{}
		return nil
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = p
	return nil
}
