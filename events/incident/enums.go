package incident

import "cmp"

// Kind is the risk an incident belongs to. The
// values are the lower-case forms of the contract's IncidentKind enum.
type Kind string

const (
	KindFlood           Kind = "flood"
	KindFlashFlood      Kind = "flash_flood"
	KindWildfire        Kind = "wildfire"
	KindAvalanche       Kind = "avalanche"
	KindStorm           Kind = "storm"
	KindHeatwave        Kind = "heatwave"
	KindIndustrial      Kind = "industrial"
	KindHazmatTransport Kind = "hazmat_transport"
	KindEarthquake      Kind = "earthquake"
	KindLandslide       Kind = "landslide"
	KindPublicOrder     Kind = "public_order"
	KindOther           Kind = "other"
)

// Kinds returns every kind, in the contract's order.
func Kinds() []Kind {
	return []Kind{
		KindFlood, KindFlashFlood, KindWildfire, KindAvalanche, KindStorm, KindHeatwave,
		KindIndustrial, KindHazmatTransport, KindEarthquake, KindLandslide, KindPublicOrder, KindOther,
	}
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, known := range Kinds() {
		if k == known {
			return true
		}
	}
	return false
}

// Severity is CAP 1.2's severity, spelled as CAP spells it. The zero value
// means not assessed yet, which a report allows and a qualification does not.
type Severity string

const (
	SeverityMinor    Severity = "Minor"
	SeverityModerate Severity = "Moderate"
	SeveritySevere   Severity = "Severe"
	SeverityExtreme  Severity = "Extreme"
)

// Severities returns every severity, least severe first.
func Severities() []Severity {
	return []Severity{SeverityMinor, SeverityModerate, SeveritySevere, SeverityExtreme}
}

// Valid reports whether s is one of Severities (not the zero value).
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Rank orders severities for sorting: 1 for Minor up to 4 for Extreme, 0 for
// the zero value or anything unknown.
func (s Severity) Rank() int {
	switch s {
	case SeverityMinor:
		return 1
	case SeverityModerate:
		return 2
	case SeveritySevere:
		return 3
	case SeverityExtreme:
		return 4
	}
	return 0
}

// CompareSeverity orders a and b by Rank, for slices.SortFunc.
func CompareSeverity(a, b Severity) int { return cmp.Compare(a.Rank(), b.Rank()) }

// Status is where an incident is in its lifecycle; the values are the
// lower-case forms of the contract's IncidentStatus enum. Reopening is an
// event, not a status: a reopened incident is reported or qualified again.
type Status string

const (
	StatusReported   Status = "reported"
	StatusQualified  Status = "qualified"
	StatusEscalated  Status = "escalated"
	StatusStabilized Status = "stabilized"
	StatusClosed     Status = "closed"
)

// Statuses returns every status, in lifecycle order.
func Statuses() []Status {
	return []Status{StatusReported, StatusQualified, StatusEscalated, StatusStabilized, StatusClosed}
}

// Point is a WGS 84 position in decimal degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}
