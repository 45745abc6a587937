package cap

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The schema's enumerations, so that Validate refuses what xmllint would.
var (
	statuses   = []string{"Actual", "Exercise", "System", "Test", "Draft"}
	msgTypes   = []string{"Alert", "Update", "Cancel", "Ack", "Error"}
	scopes     = []string{"Public", "Restricted", "Private"}
	categories = []string{"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"}
	responses  = []string{"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"}
	urgencies  = []string{"Immediate", "Expected", "Future", "Past", "Unknown"}
	severities = []string{"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
	certainty  = []string{"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
)

var (
	languageTag = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`) // xs:language
	decimal     = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`) // xs:decimal
)

// problems gathers every fault of a message, so one Validate call tells the author all
// there is to fix rather than the first thing only.
type problems []error

func (p *problems) add(where, format string, args ...any) {
	*p = append(*p, fmt.Errorf("cap: %s: %s", where, fmt.Sprintf(format, args...)))
}

func (p *problems) required(where, value string) {
	if value == "" {
		p.add(where, "required")
	}
}

func (p *problems) oneOf(where, value string, allowed []string) {
	if value == "" {
		p.add(where, "required (one of %s)", strings.Join(allowed, ", "))
	} else if !slices.Contains(allowed, value) {
		p.add(where, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

// Validate checks a against the CAP 1.2 schema and the rules of the CAP specification the
// schema cannot express (references on updates, restriction with scope Restricted, closed
// polygons, expiry after sending). The error joins every problem found.
func (a Alert) Validate() error {
	var p problems
	p.id("identifier", a.Identifier)
	p.id("sender", a.Sender)
	if a.Sent.IsZero() {
		p.add("sent", "required")
	} else {
		p.time("sent", a.Sent)
	}
	p.oneOf("status", a.Status, statuses)
	p.oneOf("msgType", a.MsgType, msgTypes)
	p.oneOf("scope", a.Scope, scopes)
	switch a.Scope {
	case "Restricted":
		if a.Restriction == "" {
			p.add("restriction", "required when scope is Restricted (who may see the message)")
		}
	case "Private":
		if a.Addresses == "" {
			p.add("addresses", "required when scope is Private (who the message is for)")
		}
	}
	p.references(a)
	if (a.MsgType == "Alert" || a.MsgType == "Update") && len(a.Infos) == 0 {
		p.add("info", "an %s needs at least one info block (what, where, what to do)", a.MsgType)
	}
	for i, in := range a.Infos {
		p.info(fmt.Sprintf("info[%d]", i), in, a.Sent)
	}
	return errors.Join(p...)
}

// id checks identifier and sender: references join them with commas and spaces, so
// those cannot appear inside, nor may the XML-special < and &.
func (p *problems) id(where, v string) {
	if v == "" {
		p.add(where, "required")
		return
	}
	if i := strings.IndexFunc(v, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ',' || r == '<' || r == '&'
	}); i >= 0 {
		p.add(where, "%q contains %q (no spaces, commas, < or &)", v, v[i])
	}
}

// time checks a CAP time as Marshal will write it: a valid xs:dateTime of CAP's
// pattern, naming the same instant, in a plausible year (Time.check).
func (p *problems) time(where string, t Time) {
	if err := t.check(); err != nil {
		p.add(where, "%v", err)
	}
}

func (p *problems) references(a Alert) {
	switch {
	case (a.MsgType == "Update" || a.MsgType == "Cancel") && a.References == "":
		p.add("references", "an %s must reference the message(s) it replaces (sender,identifier,sent)", a.MsgType)
	case a.MsgType == "Alert" && a.References != "":
		p.add("references", "an Alert is a new message and references nothing; use msgType Update or Cancel")
	}
	refs, err := ParseReferences(a.References)
	if err != nil {
		*p = append(*p, err)
	}
	for _, r := range refs {
		p.time("references", r.Sent)
		if !a.Sent.IsZero() && r.Sent.After(a.Sent.Time) {
			p.add("references", "%s was sent after this message (%s): a reference is to an earlier message", r, a.Sent)
		}
	}
}

func (p *problems) info(where string, in Info, sent Time) {
	if in.Language != "" && !languageTag.MatchString(in.Language) {
		p.add(where+".language", "%q is not a language tag like fr-FR", in.Language)
	}
	if len(in.Categories) == 0 {
		p.add(where+".category", "at least one required (one of %s)", strings.Join(categories, ", "))
	}
	for i, c := range in.Categories {
		p.oneOf(fmt.Sprintf("%s.category[%d]", where, i), c, categories)
	}
	p.required(where+".event", in.Event)
	for i, r := range in.ResponseTypes {
		p.oneOf(fmt.Sprintf("%s.responseType[%d]", where, i), r, responses)
	}
	p.oneOf(where+".urgency", in.Urgency, urgencies)
	p.oneOf(where+".severity", in.Severity, severities)
	p.oneOf(where+".certainty", in.Certainty, certainty)
	p.pairs(where+".eventCode", in.EventCodes)
	p.pairs(where+".parameter", in.Parameters)
	for _, t := range []struct {
		name string
		t    Time
	}{{"effective", in.Effective}, {"onset", in.Onset}, {"expires", in.Expires}} {
		if !t.t.IsZero() {
			p.time(where+"."+t.name, t.t)
		}
	}
	if !in.Expires.IsZero() {
		if !sent.IsZero() && in.Expires.Before(sent.Time) {
			p.add(where+".expires", "%s is before sent %s", in.Expires, sent)
		}
		if !in.Effective.IsZero() && in.Expires.Before(in.Effective.Time) {
			p.add(where+".expires", "%s is before effective %s", in.Expires, in.Effective)
		}
	}
	p.uri(where+".web", in.Web)
	for i, r := range in.Resources {
		w := fmt.Sprintf("%s.resource[%d]", where, i)
		p.required(w+".resourceDesc", r.ResourceDesc)
		p.required(w+".mimeType", r.MimeType)
		if r.Size < 0 {
			p.add(w+".size", "%d is negative", r.Size)
		}
		p.uri(w+".uri", r.URI)
	}
	for i, ar := range in.Areas {
		p.area(fmt.Sprintf("%s.area[%d]", where, i), ar)
	}
}

func (p *problems) pairs(where string, nvs []NameValue) {
	for i, nv := range nvs {
		p.required(fmt.Sprintf("%s[%d].valueName", where, i), nv.ValueName)
	}
}

// uri checks an optional absolute URI: CAP's web and resource uri are links a consumer follows.
func (p *problems) uri(where, v string) {
	if v == "" {
		return
	}
	if u, err := url.Parse(v); err != nil || !u.IsAbs() || strings.ContainsAny(v, " \t\n") {
		p.add(where, "%q is not an absolute URI", v)
	}
}

func (p *problems) area(where string, ar Area) {
	p.required(where+".areaDesc", ar.AreaDesc)
	for i, poly := range ar.Polygons {
		if err := checkPolygon(poly); err != nil {
			p.add(fmt.Sprintf("%s.polygon[%d]", where, i), "%v", err)
		}
	}
	for i, c := range ar.Circles {
		if err := checkCircle(c); err != nil {
			p.add(fmt.Sprintf("%s.circle[%d]", where, i), "%v", err)
		}
	}
	p.pairs(where+".geocode", ar.Geocodes)
	if ar.Altitude != "" && !decimal.MatchString(ar.Altitude) {
		p.add(where+".altitude", "%q is not a decimal", ar.Altitude)
	}
	if ar.Ceiling != "" {
		if !decimal.MatchString(ar.Ceiling) {
			p.add(where+".ceiling", "%q is not a decimal", ar.Ceiling)
		}
		if ar.Altitude == "" {
			p.add(where+".ceiling", "needs altitude (CAP: ceiling only with altitude)")
		}
	}
}

// checkPolygon wants at least four "lat,lon" pairs, the last equal to the first: CAP's
// closed ring, whose smallest shape is a triangle.
func checkPolygon(s string) error {
	fields := strings.Fields(s)
	if len(fields) < 4 {
		return fmt.Errorf("%q has %d points; a closed polygon needs at least 4 (first repeated last)", s, len(fields))
	}
	pts := make([][2]float64, len(fields))
	for i, f := range fields {
		pt, err := parsePoint(f)
		if err != nil {
			return err
		}
		pts[i] = pt
	}
	if pts[0] != pts[len(pts)-1] {
		return fmt.Errorf("%q is not closed: the last point must repeat the first", s)
	}
	return nil
}

// checkCircle wants "lat,lon radius", the radius in kilometres.
func checkCircle(s string) error {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return fmt.Errorf("%q is not \"lat,lon radius\"", s)
	}
	if _, err := parsePoint(fields[0]); err != nil {
		return err
	}
	if r, ok := parseDecimal(fields[1]); !ok || r < 0 {
		return fmt.Errorf("%q: radius %q is not a non-negative number of km", s, fields[1])
	}
	return nil
}

// parseDecimal reads a coordinate or a radius when it is an xs:decimal, as CAP writes
// them. strconv.ParseFloat alone also takes NaN (which passes every range check: every
// comparison with it is false), Inf, hexadecimal floats and exponents, which no CAP
// consumer reads as a place.
func parseDecimal(s string) (float64, bool) {
	if len(s) > 32 || !decimal.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// parsePoint reads a WGS 84 "lat,lon" and checks it is on the globe.
func parsePoint(s string) ([2]float64, error) {
	la, lo, ok := strings.Cut(s, ",")
	lat, ok1 := parseDecimal(la)
	lon, ok2 := parseDecimal(lo)
	if !ok || !ok1 || !ok2 {
		return [2]float64{}, fmt.Errorf("point %q is not \"lat,lon\"", s)
	}
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return [2]float64{}, fmt.Errorf("point %q is out of range (latitude first, -90..90, then longitude -180..180)", s)
	}
	return [2]float64{lat, lon}, nil
}
