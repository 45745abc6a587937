package journal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log/global"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"vigie/events/store"
	"vigie/events/storetest"
	"vigie/policies/journal"
)

// records keeps the log records the journal emits, as an OpenTelemetry collector
// would receive them.
type records struct {
	mu  sync.Mutex
	all []sdklog.Record
}

func (r *records) OnEmit(_ context.Context, rec *sdklog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, rec.Clone())
	return nil
}
func (*records) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*records) Shutdown(context.Context) error                         { return nil }
func (*records) ForceFlush(context.Context) error                       { return nil }

func (r *records) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.all {
		b.WriteString(rec.Body().AsString())
		rec.WalkAttributes(func(kv attribute.KeyValue) bool {
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.Emit())
			return true
		})
		b.WriteString("\n")
	}
	return b.String()
}

// telemetry installs a recording logger provider and a manual metric reader, before
// the journal is made (it takes the global providers then).
func telemetry(t *testing.T) (*records, *sdkmetric.ManualReader) {
	t.Helper()
	rec := &records{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(rec))
	prevLP := global.GetLoggerProvider()
	global.SetLoggerProvider(lp)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prevMP := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() { global.SetLoggerProvider(prevLP); otel.SetMeterProvider(prevMP) })
	return rec, reader
}

func counted(t *testing.T, reader *sdkmetric.ManualReader, kind journal.Kind) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "vigie.security.events" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if v, _ := dp.Attributes.Value("kind"); v.AsString() == string(kind) {
					n += dp.Value
				}
			}
		}
	}
	return n
}

// From the attacker's side: a script retrying a bad token ten thousand times costs
// the log one entry (with its count), the counter counts every try, and nothing of
// what the script sent (the token) is recorded anywhere.
func TestAFloodOfFailuresIsOneEntryWithItsCount(t *testing.T) {
	rec, reader := telemetry(t)
	st, _ := storetest.Embedded(t)
	j := journal.New(st)
	ctx := context.Background()
	for range 10_000 {
		j.Record(ctx, journal.Entry{Kind: journal.AuthFailed, Action: "POST /graphql", Code: "UNAUTHENTICATED", Reason: "jeton invalide"})
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := j.Recent(ctx, "dep:30", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Count != 10_000 || got[0].Kind != journal.AuthFailed {
		t.Fatalf("département admin sees %+v, want one AUTH_FAILED entry counting 10000", got)
	}
	if n := counted(t, reader, journal.AuthFailed); n != 10_000 {
		t.Errorf("counter vigie.security.events{kind=AUTH_FAILED} = %d, want 10000", n)
	}
	// Kept a year and a day, then erased by the store's scavenge.
	meta, err := st.ReadStream(ctx, "$$"+journal.Global, store.End, store.Backwards, 1)
	if err != nil || len(meta) != 1 || string(meta[0].Data) != `{"$maxAge":31622400}` {
		t.Errorf("retention of %s: %v %v", journal.Global, meta, err)
	}
	if text := rec.text(); strings.Count(text, "Échec d'authentification") != 1 || !strings.Contains(text, "count=10000") {
		t.Errorf("log records:\n%s\nwant one « Échec d'authentification » with count=10000", text)
	}
	// A commune's admin does not see what no one can attribute.
	if got, _ := j.Recent(ctx, "dep:30/com:30189", 100); len(got) != 0 {
		t.Errorf("a commune's admin sees global entries: %+v", got)
	}
}

// An admin sees their own domain only: Nîmes' refusals are not Alès', a département
// sees its communes, another département sees nothing.
func TestEntriesStayInTheirDomain(t *testing.T) {
	telemetry(t)
	st, _ := storetest.Embedded(t)
	j := journal.New(st)
	ctx := context.Background()
	j.Record(ctx, journal.Entry{Kind: journal.Refused, Domain: "dep:30/com:30189", Actor: "rac-ales", Action: "closeIncident", Code: "FORBIDDEN"})
	j.Record(ctx, journal.Entry{Kind: journal.RoleGranted, Domain: "dep:30/com:30007", Actor: "admin-ales", Subject: "rac-ales", Action: "role:grant rac"})
	j.Record(ctx, journal.Entry{Kind: journal.Refused, Domain: "dep:34/com:34172", Actor: "x", Action: "alerts", Code: "FORBIDDEN"})
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	kinds := func(domain string) string {
		got, err := j.Recent(ctx, domain, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range got {
			out = append(out, string(e.Kind)+"@"+e.Domain)
		}
		return strings.Join(out, ",")
	}
	for domain, want := range map[string]string{
		"dep:30/com:30189": "REFUSED@dep:30/com:30189",
		"dep:30/com:30007": "ROLE_GRANTED@dep:30/com:30007",
		"dep:34":           "REFUSED@dep:34/com:34172",
		"dep:13":           "",
	} {
		if got := kinds(domain); got != want {
			t.Errorf("Recent(%s) = %q, want %q", domain, got, want)
		}
	}
	if got := kinds("dep:30"); !strings.Contains(got, "REFUSED@dep:30/com:30189") || !strings.Contains(got, "ROLE_GRANTED@dep:30/com:30007") || strings.Contains(got, "dep:34") {
		t.Errorf("Recent(dep:30) = %q, want both Gard communes' entries and nothing of the Hérault", got)
	}
}

// A caller past their rate names no domain: the entry is filed under the domains the
// caller holds roles in, so that their admin sees it.
func TestAnActorWithoutDomainIsFiledUnderTheirGrants(t *testing.T) {
	telemetry(t)
	st, _ := storetest.Embedded(t)
	j := journal.New(st)
	j.DomainsOf = func(subject string) []string {
		if subject == "rac-nimes" {
			return []string{"dep:30/com:30189"}
		}
		return nil
	}
	ctx := context.Background()
	j.Record(ctx, journal.Entry{Kind: journal.RateLimited, Actor: "rac-nimes", Action: "POST /graphql", Code: "RATE_LIMITED"})
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.Recent(ctx, "dep:30/com:30189", 10); len(got) != 1 || got[0].Actor != "rac-nimes" {
		t.Errorf("Nîmes' admin sees %+v, want the rate-limited entry of rac-nimes", got)
	}
	if got, _ := j.Recent(ctx, "dep:30", 10); len(got) != 1 || got[0].Kind != journal.RateLimited {
		t.Errorf("Gard admin sees %+v, want the rate-limited entry of rac-nimes", got)
	}
}

// Distinct entries are bounded too: past 1,000 different ones in a second, the rest is
// counted in one « journal saturé » entry instead of growing memory or the log.
func TestDistinctEntriesAreBounded(t *testing.T) {
	_, reader := telemetry(t)
	st, _ := storetest.Embedded(t)
	j := journal.New(st)
	ctx := context.Background()
	for i := range 1500 {
		j.Record(ctx, journal.Entry{Kind: journal.Refused, Domain: "dep:30", Actor: fmt.Sprintf("acteur-%d", i), Action: "incidents", Code: "FORBIDDEN"})
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := j.Recent(ctx, "dep:30", journal.MaxRecent)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != journal.MaxRecent {
		t.Fatalf("Recent answers %d entries, want the last %d", len(got), journal.MaxRecent)
	}
	var saturated *journal.Entry
	for i := range got {
		if got[i].Kind == journal.Saturated {
			saturated = &got[i]
		}
	}
	if saturated == nil || saturated.Count != 500 {
		t.Errorf("want one SATURATED entry counting 500, got %+v", saturated)
	}
	if n := counted(t, reader, journal.Refused); n != 1500 {
		t.Errorf("counter = %d, want every refusal counted (1500)", n)
	}
}

// What is shown to an admin cannot be used against them: control, bidi-override and
// zero-width characters are removed, and a field is bounded.
func TestFieldsAreCleanedAndBounded(t *testing.T) {
	telemetry(t)
	st, _ := storetest.Embedded(t)
	j := journal.New(st)
	ctx := context.Background()
	j.Record(ctx, journal.Entry{Kind: journal.Refused, Domain: "dep:30", Actor: "evil\u202egnp.exe\u200b\n", Action: strings.Repeat("a", 5000)})
	j.Record(ctx, journal.Entry{Kind: "FORGED", Domain: "dep:30"})
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := j.Recent(ctx, "dep:30", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %+v, want the one valid entry (an unknown kind is not recorded)", got)
	}
	if got[0].Actor != "evilgnp.exe" || len([]rune(got[0].Action)) > 201 {
		t.Errorf("actor %q (want control and format characters removed), action of %d characters (want ≤ 201)", got[0].Actor, len([]rune(got[0].Action)))
	}
}

// A backup taken while serve holds the log, or a restore done before the next start,
// reaches the admin's journal through the data dir's inbox: once, and the file goes.
func TestCommandsApartReachTheJournalThroughTheInbox(t *testing.T) {
	telemetry(t)
	st, _ := storetest.Embedded(t)
	dir := t.TempDir() + "/journal"
	if err := journal.Drop(dir, journal.Entry{Kind: journal.BackupTaken, Domain: "dep:30", Actor: "vigie backup", Reason: "sauvegarde de 1234 événements"}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("inbox mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
	j := journal.New(st)
	j.Inbox = dir
	ctx := context.Background()
	for range 2 {
		if err := j.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Recent(ctx, "dep:30", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != journal.BackupTaken {
		t.Fatalf("journal holds %+v, want the backup once", got)
	}
	if left, _ := filepath.Glob(dir + "/*"); len(left) != 0 {
		t.Errorf("inbox still holds %v", left)
	}
}
