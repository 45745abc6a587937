package labels

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	// The zone database in the binary: Europe/Paris must not depend on the host's.
	_ "time/tzdata"
)

// Plural is a count and its noun, agreed as French does: the singular for 0 and
// 1 (« 0 échec », « 1 destinataire »), the plural from 2 (« 2 destinataires »).
// An adjective or participle agrees the same way (« 1 disponible », « 3 engagés »).
func Plural(n int, one, many string) string {
	if n >= -1 && n <= 1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Count is a count of a set's value, in its plural when it has one: « 1 équipe »,
// « 3 équipes ».
func (s Set) Count(n int, v string) string {
	e, ok := s.Lookup(v)
	if !ok {
		return strconv.Itoa(n) + " " + v
	}
	many := e.Plural
	if many == "" {
		many = e.Label
	}
	return Plural(n, e.Label, many)
}

// Agree makes a participle agree with the entry's label, in the singular:
// « SMS remis », « notification remise ».
func (e Entry) Agree(participle string) string {
	if e.Feminine {
		return participle + "e"
	}
	return participle
}

// Duration is a duration as French writes it, to the second: « 4 s »,
// « 1 min 23 s », « 2 h 05 min », « 1 j 3 h ». Below a second it is « 0 s »;
// beyond an hour the seconds are left out, and beyond a day the minutes.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := int64(d / time.Second)
	days, hours, mins, secs := s/86400, s/3600%24, s/60%60, s%60
	var out string
	switch {
	case days > 0:
		out = fmt.Sprintf("%d j", days)
		if hours > 0 {
			out += fmt.Sprintf(" %d h", hours)
		}
	case hours > 0:
		out = fmt.Sprintf("%d h", hours)
		if mins > 0 {
			out += fmt.Sprintf(" %02d min", mins)
		}
	case mins > 0:
		out = fmt.Sprintf("%d min", mins)
		if secs > 0 {
			out += fmt.Sprintf(" %d s", secs)
		}
	default:
		out = fmt.Sprintf("%d s", secs)
	}
	if neg {
		return "−" + out
	}
	return out
}

// Seconds is Duration of a number of seconds (the delays' unit in exports).
func Seconds(s float64) string { return Duration(time.Duration(s * float64(time.Second))) }

// Paris is the time zone of the crisis cells and prefectures of metropolitan
// France, in which every time a person reads is written.
var Paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic("labels: no Europe/Paris in the embedded zone database: " + err.Error())
	}
	return l
}()

// Time is an instant as a person reads it in an export, in Europe/Paris with its
// offset, so that a reader elsewhere or a winter's night in a summer's report
// cannot mistake it: « 17/10/2026 08:01:00 (UTC+02:00) ».
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(Paris)
	return t.Format("02/01/2006 15:04:05") + " (UTC" + t.Format("-07:00") + ")"
}

// Clock is an instant's time of day in Europe/Paris, for a line that is dated
// already: « 08:01 ».
func Clock(t time.Time) string { return t.In(Paris).Format("15:04") }

// Truncate shortens a free text to n runes at most for a one-line summary, with
// an ellipsis, on one line.
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
