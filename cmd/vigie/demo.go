package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"sync"
	"time"

	"vigie/graph/client"
	"vigie/identity"
	"vigie/policies"
)

// demo is `vigie demo`: serve, plus a Cévennes flash flood around Nîmes (dep:30)
// seeded through the gateway on first start, and tokens to click through it. Its
// alerts go to an SMS/voice gateway and an SMTP server inside the process
// (demoproviders.go), so that delivery, failure and cancellation happen for real.
func demo(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	prov, err := startDemoProviders()
	if err != nil {
		fmt.Fprintf(stderr, "vigie %s: starting the demo's providers: %v\n", name, err)
		return exitError
	}
	defer prov.Close()
	return runDemo(ctx, name, args, stdout, stderr, prov)
}

// runDemo is demo with its providers given, so that a test can read what they received.
func runDemo(ctx context.Context, name string, args []string, stdout, stderr io.Writer, prov *demoProviders) int {
	clock := &demoClock{}
	seed := func(ctx context.Context, key ed25519.PrivateKey, url string, stdout io.Writer) error {
		return seedDemo(ctx, key, url, stdout, clock)
	}
	return runAll(ctx, name, args, stdout, stderr, seed, prov, clock.Now)
}

// demoNightStart is when the demo's crisis begins: 21:00 in Nîmes on 26 November 2026
// (CET, UTC+01:00, as every late November), a fixed night so that the README can name
// an instant of it. It ends before demoNightEnd, 04:00 the next morning.
var (
	demoNightStart = time.Date(2026, time.November, 26, 21, 0, 0, 0, demoZone)
	demoNightEnd   = demoNightStart.Add(7 * time.Hour)
	// demoZone is Nîmes' offset that night; a fixed zone needs no tzdata on the machine.
	demoZone = time.FixedZone("CET", 3600)
)

// demoNight returns the start of the night the demo records: demoNightStart, or on a
// machine whose clock is earlier than its end, the same night as many days back as it
// takes to be over, so that events recorded live afterwards still come later.
func demoNight(now time.Time) time.Time {
	start := demoNightStart
	for !start.Add(demoNightEnd.Sub(demoNightStart)).Before(now) {
		start = start.AddDate(0, 0, -1)
	}
	return start
}

// demoInstant is hh:mm of the night that starts at night: before noon, the next
// morning.
func demoInstant(night time.Time, hhmm string) (time.Time, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, err
	}
	day := night
	if t.Hour() < 12 {
		day = day.AddDate(0, 0, 1)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, demoZone), nil
}

// demoClock is the clock of the services of `vigie demo`: the wall clock, except while
// the seed records the night, when it reads the instant the seed set. The seed only
// moves it forward, so that the events' times follow the log's order; the dispatcher,
// which writes deliveries while the seed waits, reads the same instant.
type demoClock struct {
	mu sync.Mutex
	at time.Time // zero: the wall clock
}

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

// set moves the clock to t; never backwards, which would give an event a time before
// one already recorded.
func (c *demoClock) set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.at) {
		return fmt.Errorf("the demo's script goes back in time, from %s to %s", c.at.Format(time.RFC3339), t.Format(time.RFC3339))
	}
	c.at = t
	return nil
}

// release gives the wall clock back, for everything done live once the demo is up.
func (c *demoClock) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = time.Time{}
}

// The demo's people: opaque subjects, as an identity provider would give, and the
// display names their tokens carry, which the timeline and the after-action report
// show (the role has its own column: a name never repeats it); who is printed
// beside their token.
var demoPeople = []struct{ sub, name, role, domain, who string }{
	{"maire-nimes", "Marie Durand", "mayor", "dep:30/com:30189", "le maire de Nîmes"},
	{"rac-nimes", "Julien Moreau", "rac", "dep:30/com:30189", "le coordinateur (RAC) de la cellule de crise de Nîmes"},
	{"maire-sommieres", "Claire Fabre", "mayor", "dep:30/com:30321", "le maire de Sommières"},
	{"maire-ales", "Paul Bonnet", "mayor", "dep:30/com:30007", "le maire d'Alès"},
	{"cod-gard", "Hélène Garnier", "prefecture", "dep:30", "la préfecture du Gard (COD)"},
}

// seedDemo records the Cévennes episode of the night of demoNight through the gateway,
// with the times a real night would have given: the rain reaches the Gardon at Alès
// first (21:00), then the Vidourle at Sommières, which the prefecture takes over, then
// the cadereaux of Nîmes towards midnight; the alerts to Nîmes' residents go out at the
// end of the night. The services read clock, which each step sets to its time of the
// night; it returns to the wall clock when the seed ends.
func seedDemo(ctx context.Context, key ed25519.PrivateKey, url string, stdout io.Writer, clock *demoClock) error {
	tokens := map[string]client.Client{}
	for _, p := range demoPeople {
		tok, err := identity.Issue(key, identity.Claims{Subject: p.sub, Name: p.name, Grants: []policies.Grant{{Role: p.role, Domain: p.domain}}}, 12*time.Hour)
		if err != nil {
			return err
		}
		tokens[p.sub] = client.Client{URL: url + "/graphql", Token: tok}
	}
	defer func() {
		fmt.Fprintln(stdout, "jetons de démonstration (valables 12 h ; à envoyer en Authorization: Bearer …) :")
		for _, p := range demoPeople {
			fmt.Fprintf(stdout, "  %-56s %s\n", p.who+":", tokens[p.sub].Token)
		}
	}()
	mayor, rac, sommieres, ales, cod := tokens["maire-nimes"], tokens["rac-nimes"], tokens["maire-sommieres"], tokens["maire-ales"], tokens["cod-gard"]

	// Seed once: a data directory that already holds the crisis keeps it.
	var existing struct{ Incidents []struct{ ID string } }
	if err := cod.Do(ctx, `query { incidents(domain: "dep:30", status: [REPORTED, QUALIFIED, ESCALATED, STABILIZED, CLOSED]) { id } }`, nil, &existing); err != nil {
		return err
	}
	if len(existing.Incidents) > 0 {
		return nil
	}
	defer clock.release()
	night := demoNight(time.Now())
	// at runs steps at hh:mm of the night.
	at := func(hhmm string, steps ...func() error) error {
		t, err := demoInstant(night, hhmm)
		if err != nil {
			return err
		}
		if err := clock.set(t); err != nil {
			return err
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	}
	type idOnly struct{ ID string }
	report := func(into *string, g client.Client, cmd, domain, kind, title, severity string) func() error {
		return func() error {
			var r struct{ ReportIncident idOnly }
			err := g.Do(ctx, `mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }`,
				map[string]any{"c": cmd, "in": map[string]any{"domain": domain, "kind": kind, "title": title, "severity": severity}}, &r)
			*into = r.ReportIncident.ID
			return err
		}
	}
	// mutate's variables are read when the step runs, so that a step may name an id
	// an earlier step made.
	mutate := func(g client.Client, q string, vars func() map[string]any) func() error {
		return func() error { return g.Do(ctx, q, vars(), nil) }
	}
	const (
		qualify  = `mutation($id: ID!, $k: IncidentKind!, $s: Severity!, $c: ID) { qualifyIncident(id: $id, kind: $k, severity: $s, commandId: $c) { id } }`
		logEntry = `mutation($id: ID!, $t: String!, $c: ID) { addLogEntry(incidentId: $id, text: $t, commandId: $c) { id } }`
		escalate = `mutation($id: ID!, $r: String!, $c: ID) { escalateIncident(id: $id, reason: $r, commandId: $c) { id } }`
		closeInc = `mutation($id: ID!, $s: String!, $c: ID) { closeIncident(id: $id, summary: $s, commandId: $c) { id } }`
	)
	var nimesFlood, sauve, vidourle, gardon, landslide string
	res := newDemoResources(ctx, rac, sommieres, cod)
	for _, s := range []func() error{
		func() error {
			return at("21:00", report(&gardon, ales, "demo-4", "dep:30/com:30007", "FLOOD", "Gardon d'Alès en crue — quais", "SEVERE"))
		},
		func() error {
			return at("21:15", mutate(ales, qualify, func() map[string]any {
				return map[string]any{"id": gardon, "k": "FLOOD", "s": "SEVERE", "c": "demo-13"}
			}))
		},
		func() error { return at("21:30", res.registerNimes()...) },
		func() error {
			return at("21:40", report(&landslide, ales, "demo-4b", "dep:30/com:30007", "LANDSLIDE", "Éboulement route d'Anduze", "MINOR"))
		},
		func() error {
			return at("22:05", report(&vidourle, sommieres, "demo-3", "dep:30/com:30321", "FLOOD", "Débordement du Vidourle — centre ancien", "EXTREME"))
		},
		func() error { return at("22:10", res.registerSommieres()...) },
		func() error {
			return at("22:20", mutate(sommieres, qualify, func() map[string]any {
				return map[string]any{"id": vidourle, "k": "FLOOD", "s": "EXTREME", "c": "demo-9"}
			}))
		},
		func() error {
			return at("22:45", mutate(sommieres, logEntry, func() map[string]any {
				return map[string]any{"id": vidourle, "t": "Le Vidourle dépasse la cote de 6 m au pont romain ; évacuation du centre ancien.", "c": "demo-10"}
			}))
		},
		func() error {
			return at("23:10", mutate(sommieres, escalate, func() map[string]any {
				return map[string]any{"id": vidourle, "r": "Crue majeure dépassant les moyens communaux ; direction des opérations au préfet.", "c": "demo-11"}
			}))
		},
		func() error {
			return at("23:20", mutate(cod, logEntry, func() map[string]any {
				return map[string]any{"id": vidourle, "t": "COD activé ; colonne de renfort SDIS en route depuis Nîmes.", "c": "demo-12"}
			}))
		},
		func() error {
			return at("23:45", report(&nimesFlood, rac, "demo-1", "dep:30/com:30189", "FLASH_FLOOD", "Crue des cadereaux — quartier Richelieu", "SEVERE"))
		},
		func() error {
			return at("23:50", mutate(rac, logEntry, func() map[string]any {
				return map[string]any{"id": nimesFlood, "t": "Vigilance rouge pluie-inondation Météo-France pour le Gard.", "c": "demo-6"}
			}))
		},
		func() error {
			return at("00:05", mutate(rac, qualify, func() map[string]any {
				return map[string]any{"id": nimesFlood, "k": "FLASH_FLOOD", "s": "SEVERE", "c": "demo-5"}
			}))
		},
		func() error {
			return at("00:20", report(&sauve, rac, "demo-2", "dep:30/com:30189", "FLOOD", "Route de Sauve coupée au pont du Vistre", "MODERATE"))
		},
		func() error { return at("00:30", res.engage(rac, "pm", &nimesFlood, "demo-eng-1")) },
		func() error { return at("00:35", res.engage(rac, "st", &nimesFlood, "demo-eng-2")) },
		func() error { return at("00:50", res.fill(sommieres, "salle", 64, "demo-occ-2")) },
		func() error {
			return at("01:00", mutate(mayor, logEntry, func() map[string]any {
				return map[string]any{"id": nimesFlood, "t": "Décision du maire : ouverture du gymnase Jean Bouin comme centre d'hébergement.", "c": "demo-8"}
			}))
		},
		func() error { return at("01:10", res.engage(rac, "pump", &nimesFlood, "demo-eng-3")) },
		func() error { return at("01:15", res.engage(rac, "drone", &nimesFlood, "demo-eng-4")) },
		func() error { return at("01:30", res.requestReinforcement(&vidourle)) },
		func() error { return at("01:55", res.acceptReinforcement()) },
		func() error {
			return at("02:30", mutate(rac, logEntry, func() map[string]any {
				return map[string]any{"id": nimesFlood, "t": "Cadereau d'Uzès à 1,80 m au pont de la rue Bonfa (ESPADA), en hausse.", "c": "demo-7"}
			}))
		},
		func() error {
			return at("02:40", mutate(ales, `mutation($id: ID!, $c: ID) { stabilizeIncident(id: $id, commandId: $c) { id } }`, func() map[string]any { return map[string]any{"id": gardon, "c": "demo-14"} }))
		},
		func() error { return at("02:50", res.fill(rac, "gym", 87, "demo-occ-1")) },
		func() error {
			return at("03:00", mutate(ales, closeInc, func() map[string]any {
				return map[string]any{"id": landslide, "s": "Route dégagée par les services techniques, aucune victime.", "c": "demo-15"}
			}))
		},
		// The residents register before the alerts that reach them (their keys are
		// recorded at the night's time, as every event the seed causes).
		func() error { return at("03:35", func() error { return seedResidents(ctx, rac) }) },
		func() error { return seedAlerts(ctx, at, rac, mayor, nimesFlood) },
	} {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// The demo's residents of Nîmes are fictitious: phone numbers of the +33 6 00 00 00 xx
// block and example.org addresses (RFC 2606), and the demo's providers run inside the
// process anyway. Four live in the quartier Richelieu, inside the cadereaux alerts'
// area; two by the route de Sauve, outside it, one of them on the number the demo's SMS
// gateway refuses. Some agreed to exercise messages, as residents do at registration.
var demoResidents = []struct {
	phone, email string
	channels     []string
	exercises    bool
	lat, lon     float64
}{
	{"+33600000001", "camille.martin@example.org", []string{"SMS", "EMAIL"}, true, 43.841, 4.350},
	{"+33600000002", "lucas.bernard@example.org", []string{"SMS", "EMAIL"}, false, 43.843, 4.352},
	{"+33600000003", "", []string{"SMS"}, true, 43.839, 4.349},
	{"", "ines.petit@example.org", []string{"EMAIL"}, false, 43.840, 4.354},
	{"+33600000005", "hugo.robert@example.org", []string{"SMS", "EMAIL"}, true, 43.822, 4.372},
	{demoRefusedPhone, "", []string{"SMS"}, false, 43.821, 4.375},
}

// The areas of the demo's alerts: the cadereaux in the quartier Richelieu, and the
// route de Sauve by the Vistre bridge.
var (
	demoRichelieu = []map[string]float64{{"lat": 43.845, "lon": 4.340}, {"lat": 43.850, "lon": 4.355}, {"lat": 43.838, "lon": 4.362}, {"lat": 43.832, "lon": 4.346}}
	demoSauve     = []map[string]float64{{"lat": 43.828, "lon": 4.364}, {"lat": 43.829, "lon": 4.382}, {"lat": 43.815, "lon": 4.383}, {"lat": 43.814, "lon": 4.365}}
)

// seedResidents registers the demo's residents, as the crisis cell does at a
// resident's request.
func seedResidents(ctx context.Context, rac client.Client) error {
	for i, r := range demoResidents {
		in := map[string]any{"domain": "dep:30/com:30189", "language": "fr", "channels": r.channels,
			"location": map[string]float64{"lat": r.lat, "lon": r.lon}}
		if r.phone != "" {
			in["phone"] = r.phone
		}
		if r.email != "" {
			in["email"] = r.email
		}
		if r.exercises {
			in["exercises"] = true
		}
		err := rac.Do(ctx, `mutation($in: RegisterResidentInput!, $c: ID) { registerResident(input: $in, commandId: $c) { id } }`,
			map[string]any{"in": in, "c": fmt.Sprintf("demo-resident-%d", i+1)}, nil)
		if err != nil {
			return fmt.Errorf("registering demo resident %d: %w", i+1, err)
		}
	}
	return nil
}

// demoDispatchWait bounds how long the seed waits for the local providers to take an
// alert's messages: they answer at once, so this is only reached when dispatch is broken.
const demoDispatchWait = 30 * time.Second

// seedAlerts leaves Nîmes' alerts at every stage a newcomer should see: one delivered
// on SMS, e-mail and the CAP feed; one partly failed (the SMS gateway refuses one
// number, the board says which channel and why); one sent then cancelled (its
// residents receive « ANNULATION : … »); an FR-Alert request waiting for the
// prefecture; and one waiting for the mayor. The demo's messages go to its in-process
// providers (demoproviders.go), whose « Messages reçus » the dashboard shows.
func seedAlerts(ctx context.Context, at func(hhmm string, steps ...func() error) error, rac, mayor client.Client, incident string) error {
	draft := func(cmd, headline, description, instruction, area string, polygon []map[string]float64, channels ...string) (string, error) {
		var r struct{ DraftAlert struct{ ID string } }
		err := rac.Do(ctx, `mutation($in: DraftAlertInput!, $c: ID) { draftAlert(input: $in, commandId: $c) { id } }`, map[string]any{"c": cmd, "in": map[string]any{
			"domain": "dep:30/com:30189", "incidentId": incident, "event": "Crue soudaine", "headline": headline,
			"description": description, "instruction": instruction, "severity": "SEVERE", "urgency": "IMMEDIATE", "certainty": "OBSERVED", "category": "MET",
			"areaDesc": area, "channels": channels, "polygon": polygon,
		}}, &r)
		return r.DraftAlert.ID, err
	}
	act := func(g client.Client, op, id, cmd string) error {
		return g.Do(ctx, `mutation($id: ID!, $c: ID) { `+op+`(id: $id, commandId: $c) { id } }`, map[string]any{"id": id, "c": cmd}, nil)
	}
	const (
		cadereaux = "Les cadereaux débordent dans les quartiers Richelieu et route d'Uzès ; la pluie continue."
		richelieu = "Nîmes, quartiers Richelieu et route d'Uzès"
	)
	var delivered, frAlert, waiting, partial, cancelled string
	drafted := func(into *string, cmd, headline, description, instruction, area string, polygon []map[string]float64, channels ...string) func() error {
		return func() (err error) {
			*into, err = draft(cmd, headline, description, instruction, area, polygon, channels...)
			return err
		}
	}
	step := func(g client.Client, op string, id *string, cmd string) func() error {
		return func() error { return act(g, op, *id, cmd) }
	}
	for _, s := range []func() error{
		func() error {
			return at("03:40",
				drafted(&delivered, "demo-alert-1", "Crue des cadereaux : montez à l'étage", cadereaux,
					"Montez à l'étage. Ne prenez pas votre voiture.", richelieu, demoRichelieu, "SMS", "EMAIL", "CAP_FEED"),
				drafted(&frAlert, "demo-alert-2", "Crue majeure : ne sortez pas", cadereaux,
					"Restez chez vous, à l'étage. N'allez pas chercher vos enfants à l'école.", richelieu, demoRichelieu, "CAP_FEED", "FR_ALERT"),
				drafted(&waiting, "demo-alert-3", "Fermeture des écoles demain", cadereaux,
					"Gardez vos enfants à la maison.", richelieu, demoRichelieu, "CAP_FEED"),
				drafted(&partial, "demo-alert-9", "Route de Sauve coupée au pont du Vistre",
					"Le Vistre recouvre la route de Sauve au pont ; le passage est fermé dans les deux sens.",
					"Ne vous engagez pas sur la route de Sauve. Contournez par le boulevard Allende.",
					"Nîmes, route de Sauve au pont du Vistre", demoSauve, "SMS", "EMAIL", "CAP_FEED"),
				drafted(&cancelled, "demo-alert-10", "Évacuation de la rue Bonfa", cadereaux,
					"Quittez les rez-de-chaussée de la rue Bonfa ; rejoignez le gymnase Jean Bouin.", richelieu, demoRichelieu, "SMS", "EMAIL", "CAP_FEED"))
		},
		func() error { return at("03:42", step(rac, "submitAlert", &delivered, "demo-alert-4")) },
		func() error { return at("03:44", step(mayor, "approveAlert", &delivered, "demo-alert-5")) },
		func() error { return at("03:46", step(rac, "submitAlert", &frAlert, "demo-alert-6")) },
		func() error { return at("03:47", step(mayor, "approveAlert", &frAlert, "demo-alert-7")) },
		func() error { return at("03:48", step(rac, "submitAlert", &waiting, "demo-alert-8")) },
		func() error { return at("03:50", step(rac, "submitAlert", &partial, "demo-alert-11")) },
		func() error { return at("03:51", step(mayor, "approveAlert", &partial, "demo-alert-12")) },
		func() error { return at("03:52", step(rac, "submitAlert", &cancelled, "demo-alert-13")) },
		// A cancellation reaches those who received the alert: wait until it has
		// gone out, as the crisis cell would have before learning that the water fell.
		func() error {
			return at("03:53", step(mayor, "approveAlert", &cancelled, "demo-alert-14"), func() error { return waitDispatched(ctx, mayor, cancelled) })
		},
		func() error {
			return at("03:58", func() error {
				return mayor.Do(ctx, `mutation($id: ID!, $r: String!, $c: ID) { cancelAlert(id: $id, reason: $r, commandId: $c) { id } }`,
					map[string]any{"id": cancelled, "r": "Le cadereau d'Uzès redescend : l'évacuation n'est plus nécessaire.", "c": "demo-alert-15"}, nil)
			},
				// The demo starts with its deliveries done, so that the board a newcomer
				// opens shows outcomes, not alerts still being sent.
				func() error { return waitDispatched(ctx, mayor, delivered) },
				func() error { return waitDispatched(ctx, mayor, partial) })
		},
	} {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// waitDispatched waits until the dispatcher has finished sending alert id, whatever
// the outcome (sent, partly sent, failed).
func waitDispatched(ctx context.Context, g client.Client, id string) error {
	ctx, cancel := context.WithTimeout(ctx, demoDispatchWait)
	defer cancel()
	var last string
	for {
		var r struct{ Alerts []struct{ ID, Status string } }
		if err := g.Do(ctx, `query { alerts(domain: "dep:30/com:30189") { id status } }`, nil, &r); err != nil && ctx.Err() == nil {
			return err
		}
		for _, a := range r.Alerts {
			if a.ID == id {
				last = a.Status
			}
		}
		switch last {
		case "SENT", "PARTIALLY_SENT", "FAILED", "CANCELLED":
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("alert %s still %q after %v: the dispatcher did not finish with the demo's providers", id, last, demoDispatchWait)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// demoResources registers Nîmes' and Sommières' means, engages them, fills the
// shelters and sends a reinforcement request the prefecture partly accepts; each
// method is a step of the night, ids are kept here so that later steps can name them.
type demoResources struct {
	ctx                 context.Context
	rac, sommieres, cod client.Client
	ids                 map[string]string
	request             string // the reinforcement request's id
}

func newDemoResources(ctx context.Context, rac, sommieres, cod client.Client) *demoResources {
	return &demoResources{ctx: ctx, rac: rac, sommieres: sommieres, cod: cod, ids: map[string]string{}}
}

func (d *demoResources) register(g client.Client, key, domain, kind, name string, capacity int) func() error {
	return func() error {
		var r struct{ RegisterResource struct{ ID string } }
		in := map[string]any{"domain": domain, "kind": kind, "name": name}
		if capacity > 0 {
			in["capacity"] = capacity
		}
		if err := g.Do(d.ctx, `mutation($in: RegisterResourceInput!, $c: ID) { registerResource(input: $in, commandId: $c) { id } }`,
			map[string]any{"in": in, "c": "demo-res-" + key}, &r); err != nil {
			return err
		}
		d.ids[key] = r.RegisterResource.ID
		return nil
	}
}

func (d *demoResources) registerNimes() []func() error {
	const nimes = "dep:30/com:30189"
	return []func() error{
		d.register(d.rac, "pm", nimes, "TEAM", "Police municipale — équipe 2", 0),
		d.register(d.rac, "st", nimes, "TEAM", "Services techniques — astreinte voirie", 0),
		d.register(d.rac, "rcs", nimes, "TEAM", "Réserve communale de sécurité civile", 0),
		d.register(d.rac, "pump", nimes, "EQUIPMENT", "Motopompe 60 m³/h", 0),
		d.register(d.rac, "drone", nimes, "DRONE", "Drone caméra thermique", 0),
		d.register(d.rac, "gym", nimes, "SHELTER", "Gymnase Jean Bouin", 120),
	}
}

func (d *demoResources) registerSommieres() []func() error {
	return []func() error{
		d.register(d.sommieres, "salle", "dep:30/com:30321", "SHELTER", "Salle Maurice Ravel", 80),
		d.register(d.sommieres, "cam", "dep:30/com:30321", "CAMERA", "Caméra pont romain", 0),
	}
}

func (d *demoResources) engage(g client.Client, key string, incident *string, cmd string) func() error {
	return func() error {
		return g.Do(d.ctx, `mutation($r: ID!, $i: ID!, $c: ID) { engageResource(resourceId: $r, incidentId: $i, commandId: $c) { id } }`,
			map[string]any{"r": d.ids[key], "i": *incident, "c": cmd}, nil)
	}
}

func (d *demoResources) fill(g client.Client, key string, n int, cmd string) func() error {
	return func() error {
		return g.Do(d.ctx, `mutation($r: ID!, $n: Int!, $c: ID) { setShelterOccupancy(resourceId: $r, occupancy: $n, commandId: $c) { id } }`,
			map[string]any{"r": d.ids[key], "n": n, "c": cmd}, nil)
	}
}

func (d *demoResources) requestReinforcement(vidourle *string) func() error {
	return func() error {
		var r struct{ RequestReinforcement struct{ ID string } }
		err := d.sommieres.Do(d.ctx, `mutation($in: RequestReinforcementInput!, $c: ID) { requestReinforcement(input: $in, commandId: $c) { id } }`,
			map[string]any{"c": "demo-rf-1", "in": map[string]any{
				"domain": "dep:30/com:30321", "incidentId": *vidourle, "kind": "EQUIPMENT", "quantity": 4,
				"reason": "Motopompes pour les caves du centre ancien"}}, &r)
		d.request = r.RequestReinforcement.ID
		return err
	}
}

func (d *demoResources) acceptReinforcement() func() error {
	return func() error {
		return d.cod.Do(d.ctx, `mutation($id: ID!, $q: Int!, $n: String, $c: ID) { acceptReinforcement(id: $id, quantity: $q, note: $n, commandId: $c) { id } }`,
			map[string]any{"id": d.request, "q": 2, "n": "Deux motopompes de la réserve départementale", "c": "demo-rf-2"}, nil)
	}
}
