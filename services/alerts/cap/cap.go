package cap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// Namespace is CAP 1.2's XML namespace.
const Namespace = "urn:oasis:names:tc:emergency:cap:1.2"

// MIMEType is the media type of a CAP message (RFC 6838 registration by OASIS).
const MIMEType = "application/cap+xml"

// Alert is a CAP 1.2 alert message. Fields are in the schema's order because its
// xs:sequence makes the order of elements part of validity; encoding/xml writes fields in
// declaration order. The optional xmldsig signature the schema allows at the end is not
// kept: Vigie neither signs nor checks signatures.
type Alert struct {
	XMLName     xml.Name `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert"`
	Identifier  string   `xml:"identifier"`
	Sender      string   `xml:"sender"`
	Sent        Time     `xml:"sent"`
	Status      string   `xml:"status"`  // Actual, Exercise, System, Test, Draft
	MsgType     string   `xml:"msgType"` // Alert, Update, Cancel, Ack, Error
	Source      string   `xml:"source,omitempty"`
	Scope       string   `xml:"scope"` // Public, Restricted, Private
	Restriction string   `xml:"restriction,omitempty"`
	// Addresses is CAP's space-separated list, kept as written (addresses containing
	// spaces are quoted there, which a []string would lose).
	Addresses string   `xml:"addresses,omitempty"`
	Codes     []string `xml:"code,omitempty"`
	Note      string   `xml:"note,omitempty"`
	// References is the wire form "sender,identifier,sent ..."; build it with
	// FormatReferences and read it with ParseReferences.
	References string `xml:"references,omitempty"`
	Incidents  string `xml:"incidents,omitempty"`
	Infos      []Info `xml:"info,omitempty"`
}

// Info is one <info> block: one language's rendering of the alert.
type Info struct {
	Language      string      `xml:"language,omitempty"` // RFC 3066 tag; CAP's default is en-US
	Categories    []string    `xml:"category"`           // Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other
	Event         string      `xml:"event"`
	ResponseTypes []string    `xml:"responseType,omitempty"` // Shelter, Evacuate, Prepare, Execute, Avoid, Monitor, Assess, AllClear, None
	Urgency       string      `xml:"urgency"`                // Immediate, Expected, Future, Past, Unknown
	Severity      string      `xml:"severity"`               // Extreme, Severe, Moderate, Minor, Unknown
	Certainty     string      `xml:"certainty"`              // Observed, Likely, Possible, Unlikely, Unknown
	Audience      string      `xml:"audience,omitempty"`
	EventCodes    []NameValue `xml:"eventCode,omitempty"`
	Effective     Time        `xml:"effective"` // zero: not written
	Onset         Time        `xml:"onset"`
	Expires       Time        `xml:"expires"`
	SenderName    string      `xml:"senderName,omitempty"`
	Headline      string      `xml:"headline,omitempty"`
	Description   string      `xml:"description,omitempty"`
	Instruction   string      `xml:"instruction,omitempty"`
	Web           string      `xml:"web,omitempty"`
	Contact       string      `xml:"contact,omitempty"`
	Parameters    []NameValue `xml:"parameter,omitempty"`
	Resources     []Resource  `xml:"resource,omitempty"`
	Areas         []Area      `xml:"area,omitempty"`
}

// NameValue is CAP's valueName/value pair (eventCode, parameter, geocode), e.g.
// {"INSEE", "30189"} for the commune of Nîmes.
type NameValue struct {
	ValueName string `xml:"valueName"`
	Value     string `xml:"value"`
}

// Resource is a file attached to an info block.
type Resource struct {
	ResourceDesc string `xml:"resourceDesc"`
	MimeType     string `xml:"mimeType"`
	Size         int64  `xml:"size,omitempty"` // bytes; 0 is "not given"
	URI          string `xml:"uri,omitempty"`
	DerefURI     string `xml:"derefUri,omitempty"` // base64 content, when sent inline
	Digest       string `xml:"digest,omitempty"`   // SHA-1 of the content
}

// Area is where an info block applies. Altitude and Ceiling are xs:decimal kept as
// written (feet above sea level in CAP), so reading and writing a message loses nothing.
type Area struct {
	AreaDesc string      `xml:"areaDesc"`
	Polygons []string    `xml:"polygon,omitempty"` // "lat,lon lat,lon ...", closed; see Polygon
	Circles  []string    `xml:"circle,omitempty"`  // "lat,lon radius-km"
	Geocodes []NameValue `xml:"geocode,omitempty"`
	Altitude string      `xml:"altitude,omitempty"`
	Ceiling  string      `xml:"ceiling,omitempty"`
}

// Marshal validates a and writes it as a CAP 1.2 document with its XML declaration.
// Validating first is the point: an invalid message is an error here, not at a consumer.
func Marshal(a Alert) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	a.XMLName = xml.Name{Space: Namespace, Local: "alert"}
	doc, err := document(a)
	if err != nil {
		return nil, fmt.Errorf("cap: writing alert %s: %w", a.Identifier, err)
	}
	return doc, nil
}

// document is v as a standalone XML document: declaration, indented body, final newline.
func document(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// Parse reads a CAP 1.2 alert. It checks the root element and the time formats but does
// not call Validate: a received message is worth reading even when it breaks a rule, and
// the caller decides.
func Parse(r io.Reader) (Alert, error) {
	var a Alert
	if err := xml.NewDecoder(r).Decode(&a); err != nil {
		return Alert{}, fmt.Errorf("cap: reading alert: %w", err)
	}
	return a, nil
}

// Reference is the reference to a's message that an Update or Cancel carries.
func (a Alert) Reference() Reference {
	return Reference{Sender: a.Sender, Identifier: a.Identifier, Sent: a.Sent}
}
