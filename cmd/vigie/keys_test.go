package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/events"
	evcommand "vigie/events/command"
	"vigie/events/embedded"
	"vigie/events/store"
	"vigie/services/alerts"
	"vigie/services/alerts/channel/channeltest"
	"vigie/services/alerts/resident"
)

// Issue 14, point 2, from the attacker's side: the residents' keys are wrapped under
// a key-encryption key (KEK) kept apart from the log. Whoever copies the log, or a
// backup, without the KEK file recovers no phone number and no e-mail.

const keysNimes = "dep:30/com:30189"

// keysEnv clears what would leak into `vigie serve` from the developer's environment
// and points SMS and e-mail at sinks.
func keysEnv(t *testing.T) (*channeltest.SMTPSink, *channeltest.HTTPSink) {
	t.Helper()
	for _, k := range []string{"REDIS_URL", "EVENTSTORE_URL", "VIGIE_DATA", "VIGIE_HTTP_ADDR", "VIGIE_OIDC_ISSUER", "VIGIE_OIDC_CLIENT_ID",
		"VIGIE_SMTP_FROM", "VIGIE_SMTP_USER", "VIGIE_SMTP_PASSWORD", "VIGIE_VOICE_URL", "VIGIE_GATEWAY_TOKEN", "VIGIE_WEBHOOK_URL",
		"VIGIE_WEBHOOK_SECRET", "VIGIE_FRALERT_URL", "VIGIE_DISPATCHER", kekFileEnv,
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		t.Setenv(k, "")
	}
	mail, sms := channeltest.StartSMTP(t), channeltest.StartHTTP(t)
	t.Setenv("VIGIE_SMTP_ADDR", mail.Addr())
	t.Setenv("VIGIE_SMS_URL", sms.URL())
	return mail, sms
}

// contact is one registered resident, as the test registered them.
type contact struct{ id, phone, email string }

func serveKeys(t *testing.T, data string) *inProcess {
	t.Helper()
	return startInProcess(t, func(ctx context.Context, stdout, stderr io.Writer) int {
		return run(ctx, []string{"serve", "--data", data, "--http", "127.0.0.1:0"}, stdout, stderr)
	})
}

// registerContacts registers n residents of Nîmes on SMS and e-mail through the gateway.
func registerContacts(t *testing.T, gql *gqlClient, token, run string, n int) []contact {
	t.Helper()
	var out []contact
	for i := range n {
		c := contact{phone: fmt.Sprintf("+3361%03d%04d", len(run), i), email: fmt.Sprintf("%s.habitant%d@example.org", run, i)}
		var r struct{ ID string }
		gql.do(token, `mutation($in: RegisterResidentInput!){ registerResident(input: $in){ id } }`, map[string]any{"in": map[string]any{
			"domain": keysNimes, "phone": c.phone, "email": c.email,
			"location": map[string]float64{"lat": 43.83, "lon": 4.35}, "channels": []string{"SMS", "EMAIL"},
		}}, "registerResident", &r)
		c.id = r.ID
		out = append(out, c)
	}
	return out
}

// alertReaches drafts, submits and approves an SMS and e-mail alert, and waits until
// every contact received it on both channels.
func alertReaches(t *testing.T, gql *gqlClient, data string, mail *channeltest.SMTPSink, sms *channeltest.HTTPSink, headline string, contacts []contact) {
	t.Helper()
	rac := issueToken(t, data, "rac-30189", "rac", keysNimes)
	mayor := issueToken(t, data, "maire-30189", "mayor", keysNimes)
	in := vistreAlert(keysNimes, "SMS", "EMAIL")
	in["in"].(map[string]any)["headline"] = headline
	var a struct{ ID string }
	gql.do(rac, alertDraft, in, "draftAlert", &a)
	gql.do(rac, alertSubmit, map[string]any{"id": a.ID}, "submitAlert", nil)
	gql.do(mayor, alertApprove, map[string]any{"id": a.ID}, "approveAlert", nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing := ""
		texts, mails := map[string]bool{}, map[string]bool{}
		for _, p := range sms.Messages() {
			if strings.Contains(p.Text, headline) {
				texts[p.To] = true
			}
		}
		for _, m := range mail.Messages() {
			if strings.Contains(m.Subject, headline) {
				for _, to := range m.To {
					mails[to] = true
				}
			}
		}
		for _, c := range contacts {
			if !texts[c.phone] {
				missing = "SMS to " + c.phone
			}
			if !mails[c.email] {
				missing = "e-mail to " + c.email
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q: no %s within 30 s", headline, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readLog reads every event of the log of the embedded store directory dir (a copy:
// the attacker's), in order.
func readLog(t *testing.T, dir string) []store.Recorded {
	t.Helper()
	es, err := embedded.Open(embedded.Config{Dir: dir, NoAdminSocket: true})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	srv, err := es.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := store.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	all, err := c.ReadAll(context.Background(), store.Start, store.Forwards, store.NoLimit)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// copyDir copies the regular files of src into a new directory: what an attacker
// who can read the data directory takes away.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// filesOf returns the bytes of every regular file under dir, by path.
func filesOf(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// needles are byte strings that must appear in none of files: each secret as is and
// in base64 (how JSON writes bytes).
func assertNone(t *testing.T, what string, files map[string][]byte, secrets map[string][]byte) {
	t.Helper()
	for name, s := range secrets {
		for _, form := range [][]byte{s, []byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawStdEncoding.EncodeToString(s))} {
			for path, b := range files {
				if bytes.Contains(b, form) {
					t.Errorf("%s: %s is in %s", what, name, path)
				}
			}
		}
	}
}

// sealedOf returns the sealed contact details of every registration of the log.
func sealedOf(t *testing.T, log []store.Recorded) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, r := range log {
		if r.Type != "ResidentRegistered" {
			continue
		}
		var e struct {
			ResidentID string `json:"residentId"`
			Sealed     []byte `json:"sealed"`
		}
		if err := json.Unmarshal(r.Data, &e); err != nil {
			t.Fatal(err)
		}
		out[e.ResidentID] = e.Sealed
	}
	return out
}

// candidates returns every 32-byte value found in the log: each window of each
// event's data and metadata, and of each base64 string they hold, decoded.
func candidates(t *testing.T, log []store.Recorded) [][]byte {
	t.Helper()
	seen := map[string]bool{}
	var out [][]byte
	add := func(b []byte) {
		for i := 0; i+resident.KeySize <= len(b); i++ {
			w := string(b[i : i+resident.KeySize])
			if !seen[w] {
				seen[w] = true
				out = append(out, []byte(w))
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			add([]byte(v))
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(v); err == nil {
					add(b)
				}
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, r := range log {
		for _, raw := range [][]byte{r.Data, r.Metadata} {
			add(raw)
			var v any
			if json.Unmarshal(raw, &v) == nil {
				walk(v)
			}
		}
	}
	return out
}

// opensAny tries every candidate key on every sealed registration and returns what
// opened.
func opensAny(sealed map[string][]byte, keys [][]byte) []string {
	var opened []string
	for _, k := range keys {
		for id, s := range sealed {
			if c, err := resident.Open(k, id, s); err == nil {
				opened = append(opened, id+": "+c.Phone+" "+c.Email)
			}
		}
	}
	return opened
}

// theKeys returns each resident's key, read with the KEK, as the defender can: what
// the attacker must not find.
func theKeys(t *testing.T, data string, ids []string) map[string][]byte {
	t.Helper()
	ring, err := alerts.LoadKEKFile(filepath.Join(data, "keys", "resident.kek"))
	if err != nil {
		t.Fatalf("the KEK file of %s: %v", data, err)
	}
	st, closeStore, err := openKeysStore(data)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	out := map[string][]byte{}
	for _, id := range ids {
		k, err := (alerts.KeyVault{Store: st, Keys: ring}).Get(context.Background(), id)
		if err != nil {
			t.Fatalf("the key of %s with the KEK: %v", id, err)
		}
		out["key of "+id] = k
	}
	return out
}

func TestWithoutTheKEKNoCopyOfTheLogOrOfABackupRevealsAContact(t *testing.T) {
	mail, sms := keysEnv(t)
	data := t.TempDir()
	srv := serveKeys(t, data)
	hc := &http.Client{Timeout: 15 * time.Second}
	gql := &gqlClient{t: t, http: hc, url: srv.addr + "/graphql"}
	contacts := registerContacts(t, gql, issueToken(t, data, "rac-30189", "rac", keysNimes), "copy", 3)
	// With the KEK, the dispatcher delivers.
	alertReaches(t, gql, data, mail, sms, "Crue : montez à l'étage", contacts)
	backupFile := filepath.Join(t.TempDir(), "vigie.tar")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--data", data, "--to", backupFile}, &out, &errOut); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errOut.String())
	}
	srv.stop(t)

	// What the attacker takes away: the log's files and the backup, not DIR/keys.
	stolen := copyDir(t, filepath.Join(data, "eventstore"))
	restored := filepath.Join(t.TempDir(), "restored")
	if code := run(context.Background(), []string{"restore", "--from", backupFile, "--data", restored}, &out, &errOut); code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, errOut.String())
	}
	backupBytes, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	files := filesOf(t, stolen)
	files[backupFile] = backupBytes

	// The defender's secrets: the contacts, the residents' keys (read with the KEK)
	// and the KEK itself; none is in any byte the attacker holds.
	kekFile, err := os.ReadFile(filepath.Join(data, "keys", "resident.kek"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{"the KEK file": kekFile, "the KEK file's magic": []byte(resident.KEKFileMagic)}
	var ids []string
	for _, c := range contacts {
		ids = append(ids, c.id)
		secrets["phone of "+c.id], secrets["e-mail of "+c.id] = []byte(c.phone), []byte(c.email)
	}
	keys := theKeys(t, data, ids)
	ring, _ := resident.ParseKeyring(kekFile)
	for _, line := range strings.Split(string(kekFile), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			raw, _ := base64.StdEncoding.DecodeString(f[2])
			secrets["the KEK "+f[1]] = raw
		}
	}
	for name, k := range keys {
		secrets[name] = k
	}
	assertNone(t, "the stolen log and backup", files, secrets)

	// Every 32-byte value of the stolen log, and of the backup's, tried on every
	// sealed registration: none opens.
	for what, dir := range map[string]string{"the stolen log": stolen, "the backup": filepath.Join(restored, "eventstore")} {
		log := readLog(t, dir)
		sealed := sealedOf(t, log)
		if len(sealed) != len(contacts) {
			t.Fatalf("%s: %d sealed registrations, want %d", what, len(sealed), len(contacts))
		}
		cands := candidates(t, log)
		if opened := opensAny(sealed, cands); len(opened) > 0 {
			t.Errorf("%s: %d registrations open with values of the log, e.g. %s", what, len(opened), opened[0])
		}
		// The same search finds them with the KEK: the search is sound.
		var unwrapped [][]byte
		for _, r := range log {
			if r.Type != "ResidentKeyWrapped" {
				continue
			}
			var w resident.ResidentKeyWrapped
			if err := json.Unmarshal(r.Data, &w); err != nil {
				t.Fatal(err)
			}
			if k, err := ring.Unwrap(w.ResidentID, w.Wrapped, w.KEKID); err == nil {
				unwrapped = append(unwrapped, k)
			}
		}
		if opened := opensAny(sealed, unwrapped); len(opened) != len(contacts) {
			t.Errorf("%s: with the KEK %d registrations open, want %d", what, len(opened), len(contacts))
		}
		t.Logf("%s: %d events, %d candidate 32-byte values tried on %d registrations", what, len(log), len(cands), len(sealed))
	}
}

// legacyResident writes a resident as versions before wrapping did: the key in
// clear in residentkey-<id>, then the sealed registration. It returns the key.
func legacyResident(t *testing.T, data string, c contact) []byte {
	t.Helper()
	es, err := embedded.Open(embedded.Config{Dir: filepath.Join(data, "eventstore"), NoAdminSocket: true})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	srv, err := es.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st, err := store.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := alerts.Registry()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := resident.NewKey()
	by := events.Actor{Subject: "rac-30189", Role: events.RoleRAC}
	var r resident.Resident
	evs, err := r.Register(resident.Registration{ResidentID: c.id, Domain: keysNimes, Consent: true, Channels: []string{"SMS", "EMAIL"},
		Contact: resident.Contact{Phone: c.phone, Email: c.email, Location: resident.Point{Lat: 43.83, Lon: 4.35}}}, key, by, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		stream string
		e      events.Event
	}{{resident.KeyStreamID(c.id), resident.ResidentKeyIssued{ResidentID: c.id, Key: key}}, {resident.StreamID(c.id), evs[0]}} {
		md := events.NewMetadata("legacy-"+c.id, by, keysNimes, time.Now())
		md.EventID = evcommand.EventID(w.stream, by.Subject, "legacy-"+c.id, 0).String()
		env, err := reg.Encode(context.Background(), w.e, md)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Append(context.Background(), w.stream, store.NoStream(), store.EventData{ID: env.ID, Type: env.Type, Data: env.Data, Metadata: env.Metadata}); err != nil {
			t.Fatal(err)
		}
	}
	return key
}

// `vigie keys rotate`: a key written in clear by an earlier version, and keys wrapped
// under the first KEK, are re-wrapped under a new one; the old KEK then opens nothing
// of the log (the old wrapped keys and the clear one are gone from its files), the
// file holds the new KEK alone, and the dispatcher still reaches everyone.
func TestKeysRotateLeavesNothingTheOldKEKOpensAndDeliveryGoesOn(t *testing.T) {
	mail, sms := keysEnv(t)
	data := t.TempDir()
	legacy := contact{id: "legacy-habitant", phone: "+33699999999", email: "ancien.habitant@example.org"}
	clearKey := legacyResident(t, data, legacy)

	srv := serveKeys(t, data)
	hc := &http.Client{Timeout: 15 * time.Second}
	gql := &gqlClient{t: t, http: hc, url: srv.addr + "/graphql"}
	contacts := append(registerContacts(t, gql, issueToken(t, data, "rac-30189", "rac", keysNimes), "rot", 3), legacy)
	// The clear key of the older log still opens: the legacy resident is reached.
	alertReaches(t, gql, data, mail, sms, "Avant la rotation", contacts)
	srv.stop(t)

	kekPath := filepath.Join(data, "keys", "resident.kek")
	oldFile, err := os.ReadFile(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	old, err := resident.ParseKeyring(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	// The key material the old KEK opens, as the log holds it before the rotation.
	gone := map[string][]byte{"the clear key of " + legacy.id: clearKey}
	before := readLog(t, copyDir(t, filepath.Join(data, "eventstore")))
	// The attack works on a key written in clear, as every key was before wrapping:
	// the legacy resident opens, and only they do.
	if opened := opensAny(sealedOf(t, before), candidates(t, before)); len(opened) != 1 || !strings.HasPrefix(opened[0], legacy.id+":") {
		t.Errorf("before the rotation, the log's values open %v, want the legacy resident alone", opened)
	}
	for _, r := range before {
		if r.Type == "ResidentKeyWrapped" {
			var w resident.ResidentKeyWrapped
			if err := json.Unmarshal(r.Data, &w); err != nil {
				t.Fatal(err)
			}
			gone["the old wrapped key of "+w.ResidentID] = w.Wrapped
		}
	}
	if len(gone) != len(contacts) {
		t.Fatalf("%d keys in the log before the rotation, want %d", len(gone), len(contacts))
	}

	var out, errOut bytes.Buffer
	began := time.Now()
	if code := run(context.Background(), []string{"keys", "rotate", "--data", data}, &out, &errOut); code != exitOK {
		t.Fatalf("keys rotate: exit %d: %s%s", code, out.String(), errOut.String())
	}
	t.Logf("keys rotate (%v):\n%s", time.Since(began).Round(time.Millisecond), out.String())
	if !strings.Contains(out.String(), fmt.Sprintf("re-wrapped %d keys", len(contacts))) || !strings.Contains(out.String(), "retired "+old.Current()) {
		t.Errorf("keys rotate printed %q", out.String())
	}
	ring, err := alerts.LoadKEKFile(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	if ring.Current() == old.Current() || len(ring.Previous()) != 0 {
		t.Fatalf("after the rotation the file holds %v, want a new KEK alone (the old was %s)", ring.IDs(), old.Current())
	}

	// The attacker holds the old KEK (and the log): the old wrapped keys and the clear
	// one are in none of the log's files, the old KEK unwraps nothing, and no value of
	// the log opens a registration.
	files := filesOf(t, filepath.Join(data, "eventstore"))
	assertNone(t, "the log after the rotation", files, gone)
	log := readLog(t, copyDir(t, filepath.Join(data, "eventstore")))
	wrapped := 0
	for _, r := range log {
		if events.Category(r.StreamID) != resident.KeyCategory {
			continue
		}
		if r.Type != "ResidentKeyWrapped" {
			t.Errorf("%s still holds a %s", r.StreamID, r.Type)
			continue
		}
		var w resident.ResidentKeyWrapped
		if err := json.Unmarshal(r.Data, &w); err != nil {
			t.Fatal(err)
		}
		wrapped++
		if w.KEKID != ring.Current() {
			t.Errorf("%s is wrapped under %s, want %s", r.StreamID, w.KEKID, ring.Current())
		}
		for _, id := range []string{w.KEKID, old.Current()} {
			if _, err := old.Unwrap(w.ResidentID, w.Wrapped, id); err == nil {
				t.Errorf("the old KEK opens %s", r.StreamID)
			}
		}
	}
	if wrapped != len(contacts) {
		t.Errorf("%d wrapped keys after the rotation, want %d", wrapped, len(contacts))
	}
	if opened := opensAny(sealedOf(t, log), candidates(t, log)); len(opened) > 0 {
		t.Errorf("%d registrations open with values of the log after the rotation, e.g. %s", len(opened), opened[0])
	}

	// Restarted with the new KEK, the dispatcher (whose log now holds every key after
	// its registration) reaches everyone.
	srv = serveKeys(t, data)
	gql = &gqlClient{t: t, http: hc, url: srv.addr + "/graphql"}
	alertReaches(t, gql, data, mail, sms, "Après la rotation", contacts)
	srv.stop(t)
}

// A KEK file others may read is refused at start, by `vigie keys rotate`, and when
// VIGIE_RESIDENT_KEK_FILE names it; a VIGIE_RESIDENT_KEK_FILE that does not exist is
// refused too (a mistyped path must not make a new KEK).
func TestAKEKFileWithMode0644IsRefused(t *testing.T) {
	keysEnv(t)
	data := t.TempDir()
	srv := serveKeys(t, data)
	srv.stop(t)
	kekPath := filepath.Join(data, "keys", "resident.kek")
	if fi, err := os.Stat(kekPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the first start made %s: %v %v, want mode 0600", kekPath, fi, err)
	}
	if err := os.Chmod(kekPath, 0o644); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code == exitOK {
			t.Errorf("%s: started", what)
		} else if !strings.Contains(errOut.String(), "0644") && !strings.Contains(errOut.String(), "does not exist") {
			t.Errorf("%s: exit %d without saying why: %s", what, code, errOut.String())
		}
	}
	refused("serve with a 0644 KEK file", "serve", "--data", data, "--http", "127.0.0.1:0")
	refused("keys rotate with a 0644 KEK file", "keys", "rotate", "--data", data)

	prod := filepath.Join(t.TempDir(), "resident.kek")
	ring, _ := resident.NewKeyring()
	if err := os.WriteFile(prod, ring.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(kekFileEnv, prod)
	other := t.TempDir()
	refused("serve with VIGIE_RESIDENT_KEK_FILE 0644", "serve", "--data", other, "--http", "127.0.0.1:0")
	t.Setenv(kekFileEnv, filepath.Join(t.TempDir(), "missing.kek"))
	refused("serve with a VIGIE_RESIDENT_KEK_FILE that does not exist", "serve", "--data", other, "--http", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(other, "keys")); err == nil {
		t.Error("a KEK was made in the data directory although VIGIE_RESIDENT_KEK_FILE is set")
	}
}

// No backup archive ever holds a KEK file: the embedded store's backup refuses one,
// even planted in the directory it archives.
func TestABackupRefusesAKEKFile(t *testing.T) {
	es, err := embedded.Open(embedded.Config{Dir: t.TempDir(), NoAdminSocket: true})
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(t.TempDir(), "checkpoint")
	err = es.Checkpoint(ckpt)
	es.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.WriteBackup(io.Discard, ckpt, false, time.Now()); err != nil {
		t.Fatalf("a plain checkpoint: %v", err)
	}
	ring, _ := resident.NewKeyring()
	if err := os.WriteFile(filepath.Join(ckpt, "resident.kek"), ring.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if _, err := embedded.WriteBackup(&archive, ckpt, false, time.Now()); err == nil || !strings.Contains(err.Error(), "key-encryption key") {
		t.Errorf("a checkpoint holding a KEK file: %v, want refused", err)
	}
	if bytes.Contains(archive.Bytes(), ring.Marshal()) {
		t.Error("the KEK file went into the archive")
	}
}

func TestDataArgIsTheDataFlag(t *testing.T) {
	t.Setenv("VIGIE_DATA", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "/d", "--listen", "x"}, "/d"},
		{[]string{"-data=/e"}, "/e"},
		{[]string{"--listen", "x", "--data=/f"}, "/f"},
		{[]string{"--listen", "x"}, defaultData},
		{[]string{"--", "--data", "/g"}, defaultData},
	} {
		if got := dataArg(c.args); got != c.want {
			t.Errorf("dataArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// A rotation cut short leaves both KEKs in the file: the next `vigie keys rotate`
// finishes it (no third KEK) and only then drops the previous one.
func TestKeysRotateFinishesARotationCutShort(t *testing.T) {
	keysEnv(t)
	data := t.TempDir()
	serveKeys(t, data).stop(t)
	kekPath := filepath.Join(data, "keys", "resident.kek")
	first, err := alerts.LoadKEKFile(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	half, _ := first.Rotated()
	if err := alerts.SaveKEKFile(kekPath, half); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "rotate", "--data", data}, &out, &errOut); code != exitOK {
		t.Fatalf("keys rotate: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "finishing the rotation to "+half.Current()) || !strings.Contains(out.String(), "retired "+first.Current()) {
		t.Errorf("keys rotate printed %q", out.String())
	}
	ring, err := alerts.LoadKEKFile(kekPath)
	if err != nil || ring.Current() != half.Current() || len(ring.Previous()) != 0 {
		t.Errorf("after finishing: %v %v, want %s alone", ring.IDs(), err, half.Current())
	}
}
