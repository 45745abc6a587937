package resolver

import (
	"slices"
	"strings"

	"vigie/graph/model"
	"vigie/projections/incidentboard"
)

// The domain spells enums in lower case (flood, flash_flood) and severities as CAP does
// (Severe); GraphQL in upper case.
func upper(s string) string { return strings.ToUpper(s) }
func lower(s string) string { return strings.ToLower(s) }

// capSeverity turns SEVERE into Severe.
func capSeverity(s model.Severity) string {
	v := strings.ToLower(string(s))
	if v == "" {
		return ""
	}
	return strings.ToUpper(v[:1]) + v[1:]
}

func incidentFrom(d incidentboard.Incident) model.Incident {
	out := model.Incident{
		ID: d.ID, Domain: d.Domain, Kind: model.IncidentKind(upper(d.Kind)), Title: d.Title,
		Status: model.IncidentStatus(upper(d.Status)), ReportedAt: d.ReportedAt,
		DirectedByPrefecture: d.DirectedByPrefecture,
	}
	if d.Severity != "" {
		s := model.Severity(upper(d.Severity))
		out.Severity = &s
	}
	if d.Description != "" {
		desc := d.Description
		out.Description = &desc
	}
	if d.Location != nil {
		out.Location = &model.Point{Lat: d.Location.Lat, Lon: d.Location.Lon}
	}
	return out
}

func entryFrom(e incidentboard.Entry) model.LogEntry {
	out := model.LogEntry{ID: e.ID, At: e.At, Author: e.Author, Text: e.Text}
	if e.Corrects != "" {
		c := e.Corrects
		out.Corrects = &c
	}
	return out
}

func sortCounts(c []model.Count) {
	slices.SortFunc(c, func(a, b model.Count) int { return strings.Compare(a.Key, b.Key) })
}
