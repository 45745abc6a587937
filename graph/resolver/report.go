package resolver

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"

	"vigie/graph/auth"
	"vigie/policies"
	"vigie/policies/journal"
	"vigie/projections/replay"
)

// ReportHandler serves the after-action report of a domain: GET
// /report/{domain}.json or /report/{domain}.html (e.g. /report/dep:30/com:30189.html)
// with optional from, to (RFC 3339) and at (RFC 3339, repeated or comma-separated:
// the instants whose boards it shows; to when none) and stream. It is authorized
// like the timeline and the boards (reading the domain's timeline and incidents),
// behind the gateway's authentication and rate limit, which charge it by the log it
// reads (ReportLogReads). The report never shows a resident's contact data.
func (r *Resolver) ReportHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := strings.TrimPrefix(req.URL.Path, "/report/")
		domain, format := "", ""
		for _, ext := range []string{".json", ".html"} {
			if d, ok := strings.CutSuffix(name, ext); ok {
				domain, format = d, ext[1:]
			}
		}
		if format == "" {
			http.Error(w, "want /report/{domain}.json or .html", http.StatusNotFound)
			return
		}
		domain = canonical(domain)
		ctx := req.Context()
		var c auth.Caller
		for _, object := range []string{policies.ObjectTimeline, policies.ObjectIncident} {
			var err error
			if c, err = r.authorize(ctx, domain, object, policies.ActionRead); err != nil {
				if CodeOf(err) == CodeForbidden {
					r.Journal.Record(ctx, journal.Entry{Kind: journal.Refused, Domain: validOrEmpty(domain), Actor: c.Principal.Subject, Action: "GET /report", Code: CodeForbidden})
				}
				httpError(w, err)
				return
			}
		}
		if r.Replay == nil {
			http.Error(w, "reports need the event store: not configured", http.StatusServiceUnavailable)
			return
		}
		q := req.URL.Query()
		opts := replay.ReportOptions{Domain: domain, Stream: q.Get("stream")}
		var bad []string
		parse := func(name, v string) time.Time {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				bad = append(bad, name)
			}
			return t
		}
		if v := q.Get("from"); v != "" {
			opts.From = parse("from", v)
		}
		if v := q.Get("to"); v != "" {
			opts.To = parse("to", v)
		}
		for _, one := range reportInstants(q) {
			opts.At = append(opts.At, parse("at", one))
		}
		if len(bad) > 0 {
			http.Error(w, "not RFC 3339 times: "+strings.Join(bad, ", "), http.StatusBadRequest)
			return
		}
		rep, err := r.Replay.Report(ctx, opts)
		if err != nil {
			http.Error(w, "report unavailable", http.StatusServiceUnavailable)
			return
		}
		var buf bytes.Buffer
		if format == "json" {
			w.Header().Set("Content-Type", "application/json")
			err = rep.WriteJSON(&buf)
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			err = rep.WriteHTML(&buf)
		}
		if err != nil {
			http.Error(w, "report unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		r.Journal.Record(ctx, journal.Entry{Kind: journal.ReportExported, Domain: domain, Actor: c.Principal.Subject, Action: "GET /report (" + format + ")"})
		_, _ = w.Write(buf.Bytes())
	})
}

// reportInstants are the at parameters of a report request, repeated or
// comma-separated.
func reportInstants(q url.Values) []string {
	var out []string
	for _, v := range q["at"] {
		for _, one := range strings.Split(v, ",") {
			if one = strings.TrimSpace(one); one != "" {
				out = append(out, one)
			}
		}
	}
	return out
}

// ReportLogReads is how many times a report request reads the whole log: once for the
// timeline and the decision delays, once more for the boards at each instant it shows
// (the end of the period when it names none).
func ReportLogReads(req *http.Request) int {
	return 1 + max(1, len(reportInstants(req.URL.Query())))
}

// httpError answers an authorization failure with its HTTP status.
func httpError(w http.ResponseWriter, err error) {
	status := http.StatusForbidden
	switch CodeOf(err) {
	case CodeUnauthenticated:
		status = http.StatusUnauthorized
	case CodeInvalidInput:
		status = http.StatusBadRequest
	}
	http.Error(w, http.StatusText(status), status)
}
