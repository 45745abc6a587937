package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
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
	return runAll(ctx, name, args, stdout, stderr, seedDemo, prov)
}

// The demo's people: opaque subjects, as an identity provider would give.
var demoPeople = []struct{ sub, role, domain, who string }{
	{"maire-nimes", "mayor", "dep:30/com:30189", "the mayor of Nîmes"},
	{"rac-nimes", "rac", "dep:30/com:30189", "Nîmes' crisis-cell coordinator (RAC)"},
	{"maire-sommieres", "mayor", "dep:30/com:30321", "the mayor of Sommières"},
	{"maire-ales", "mayor", "dep:30/com:30007", "the mayor of Alès"},
	{"cod-gard", "prefecture", "dep:30", "the prefecture of the Gard (COD)"},
}

func seedDemo(ctx context.Context, key ed25519.PrivateKey, url string, stdout io.Writer) error {
	tokens := map[string]client.Client{}
	for _, p := range demoPeople {
		tok, err := identity.Issue(key, identity.Claims{Subject: p.sub, Grants: []policies.Grant{{Role: p.role, Domain: p.domain}}}, 12*time.Hour)
		if err != nil {
			return err
		}
		tokens[p.sub] = client.Client{URL: url + "/graphql", Token: tok}
	}
	defer func() {
		fmt.Fprintln(stdout, "demo tokens (valid 12 h; send as Authorization: Bearer …):")
		for _, p := range demoPeople {
			fmt.Fprintf(stdout, "  %-48s %s\n", p.who+":", tokens[p.sub].Token)
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
	type idOnly struct{ ID string }
	report := func(g client.Client, cmd, domain, kind, title, severity string) (string, error) {
		var r struct{ ReportIncident idOnly }
		err := g.Do(ctx, `mutation($in: ReportIncidentInput!, $c: ID) { reportIncident(input: $in, commandId: $c) { id } }`,
			map[string]any{"c": cmd, "in": map[string]any{"domain": domain, "kind": kind, "title": title, "severity": severity}}, &r)
		return r.ReportIncident.ID, err
	}
	steps := []func() error{}
	var nimesFlood, vidourle, gardon, landslide string
	var err error
	if nimesFlood, err = report(rac, "demo-1", "dep:30/com:30189", "FLASH_FLOOD", "Crue des cadereaux — quartier Richelieu", "SEVERE"); err != nil {
		return err
	}
	if _, err = report(rac, "demo-2", "dep:30/com:30189", "FLOOD", "Route de Sauve coupée au pont du Vistre", "MODERATE"); err != nil {
		return err
	}
	if vidourle, err = report(sommieres, "demo-3", "dep:30/com:30321", "FLOOD", "Débordement du Vidourle — centre ancien", "EXTREME"); err != nil {
		return err
	}
	if gardon, err = report(ales, "demo-4", "dep:30/com:30007", "FLOOD", "Gardon d'Alès en crue — quais", "SEVERE"); err != nil {
		return err
	}
	if landslide, err = report(ales, "demo-4b", "dep:30/com:30007", "LANDSLIDE", "Éboulement route d'Anduze", "MINOR"); err != nil {
		return err
	}
	mutate := func(g client.Client, q string, vars map[string]any) func() error {
		return func() error { return g.Do(ctx, q, vars, nil) }
	}
	const (
		qualify  = `mutation($id: ID!, $k: IncidentKind!, $s: Severity!, $c: ID) { qualifyIncident(id: $id, kind: $k, severity: $s, commandId: $c) { id } }`
		logEntry = `mutation($id: ID!, $t: String!, $c: ID) { addLogEntry(incidentId: $id, text: $t, commandId: $c) { id } }`
		escalate = `mutation($id: ID!, $r: String!, $c: ID) { escalateIncident(id: $id, reason: $r, commandId: $c) { id } }`
		closeInc = `mutation($id: ID!, $s: String!, $c: ID) { closeIncident(id: $id, summary: $s, commandId: $c) { id } }`
	)
	steps = append(steps,
		mutate(rac, qualify, map[string]any{"id": nimesFlood, "k": "FLASH_FLOOD", "s": "SEVERE", "c": "demo-5"}),
		mutate(rac, logEntry, map[string]any{"id": nimesFlood, "t": "Vigilance rouge pluie-inondation Météo-France pour le Gard.", "c": "demo-6"}),
		mutate(rac, logEntry, map[string]any{"id": nimesFlood, "t": "Cadereau d'Uzès à 1,80 m au pont de la rue Bonfa (ESPADA), en hausse.", "c": "demo-7"}),
		mutate(mayor, logEntry, map[string]any{"id": nimesFlood, "t": "Décision du maire : ouverture du gymnase Jean Bouin comme centre d'hébergement.", "c": "demo-8"}),
		mutate(sommieres, qualify, map[string]any{"id": vidourle, "k": "FLOOD", "s": "EXTREME", "c": "demo-9"}),
		mutate(sommieres, logEntry, map[string]any{"id": vidourle, "t": "Le Vidourle dépasse la cote de 6 m au pont romain ; évacuation du centre ancien.", "c": "demo-10"}),
		mutate(sommieres, escalate, map[string]any{"id": vidourle, "r": "Crue majeure dépassant les moyens communaux ; direction des opérations au préfet.", "c": "demo-11"}),
		mutate(cod, logEntry, map[string]any{"id": vidourle, "t": "COD activé ; colonne de renfort SDIS en route depuis Nîmes.", "c": "demo-12"}),
		mutate(ales, qualify, map[string]any{"id": gardon, "k": "FLOOD", "s": "SEVERE", "c": "demo-13"}),
		mutate(ales, `mutation($id: ID!, $c: ID) { stabilizeIncident(id: $id, commandId: $c) { id } }`, map[string]any{"id": gardon, "c": "demo-14"}),
		mutate(ales, closeInc, map[string]any{"id": landslide, "s": "Route dégagée par les services techniques, aucune victime.", "c": "demo-15"}),
	)
	steps = append(steps, seedResources(ctx, mutate, rac, sommieres, cod, nimesFlood, vidourle)...)
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	if err := seedResidents(ctx, rac); err != nil {
		return err
	}
	return seedAlerts(ctx, rac, mayor, nimesFlood)
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
func seedAlerts(ctx context.Context, rac, mayor client.Client, incident string) error {
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
	delivered, err := draft("demo-alert-1", "Crue des cadereaux : montez à l'étage", cadereaux,
		"Montez à l'étage. Ne prenez pas votre voiture.", richelieu, demoRichelieu, "SMS", "EMAIL", "CAP_FEED")
	if err != nil {
		return err
	}
	frAlert, err := draft("demo-alert-2", "Crue majeure : ne sortez pas", cadereaux,
		"Restez chez vous, à l'étage. N'allez pas chercher vos enfants à l'école.", richelieu, demoRichelieu, "CAP_FEED", "FR_ALERT")
	if err != nil {
		return err
	}
	waiting, err := draft("demo-alert-3", "Fermeture des écoles demain", cadereaux,
		"Gardez vos enfants à la maison.", richelieu, demoRichelieu, "CAP_FEED")
	if err != nil {
		return err
	}
	partial, err := draft("demo-alert-9", "Route de Sauve coupée au pont du Vistre",
		"Le Vistre recouvre la route de Sauve au pont ; le passage est fermé dans les deux sens.",
		"Ne vous engagez pas sur la route de Sauve. Contournez par le boulevard Allende.",
		"Nîmes, route de Sauve au pont du Vistre", demoSauve, "SMS", "EMAIL", "CAP_FEED")
	if err != nil {
		return err
	}
	cancelled, err := draft("demo-alert-10", "Évacuation de la rue Bonfa", cadereaux,
		"Quittez les rez-de-chaussée de la rue Bonfa ; rejoignez le gymnase Jean Bouin.", richelieu, demoRichelieu, "SMS", "EMAIL", "CAP_FEED")
	if err != nil {
		return err
	}
	for _, step := range []func() error{
		func() error { return act(rac, "submitAlert", delivered, "demo-alert-4") },
		func() error { return act(mayor, "approveAlert", delivered, "demo-alert-5") },
		func() error { return act(rac, "submitAlert", frAlert, "demo-alert-6") },
		func() error { return act(mayor, "approveAlert", frAlert, "demo-alert-7") },
		func() error { return act(rac, "submitAlert", waiting, "demo-alert-8") },
		func() error { return act(rac, "submitAlert", partial, "demo-alert-11") },
		func() error { return act(mayor, "approveAlert", partial, "demo-alert-12") },
		func() error { return act(rac, "submitAlert", cancelled, "demo-alert-13") },
		func() error { return act(mayor, "approveAlert", cancelled, "demo-alert-14") },
		// A cancellation reaches those who received the alert: wait until it has
		// gone out, as the crisis cell would have before learning that the water fell.
		func() error { return waitDispatched(ctx, mayor, cancelled) },
		func() error {
			return mayor.Do(ctx, `mutation($id: ID!, $r: String!, $c: ID) { cancelAlert(id: $id, reason: $r, commandId: $c) { id } }`,
				map[string]any{"id": cancelled, "r": "Le cadereau d'Uzès redescend : l'évacuation n'est plus nécessaire.", "c": "demo-alert-15"}, nil)
		},
		// The demo starts with its deliveries done, so that the board a newcomer
		// opens shows outcomes, not alerts still being sent.
		func() error { return waitDispatched(ctx, mayor, delivered) },
		func() error { return waitDispatched(ctx, mayor, partial) },
	} {
		if err := step(); err != nil {
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

// seedResources registers Nîmes' and Sommières' means, engages them, fills the
// shelters and sends a reinforcement request the prefecture partly accepts.
func seedResources(ctx context.Context, mutate func(client.Client, string, map[string]any) func() error, rac, sommieres, cod client.Client, nimesFlood, vidourle string) []func() error {
	const (
		register = `mutation($in: RegisterResourceInput!, $c: ID) { registerResource(input: $in, commandId: $c) { id } }`
		engage   = `mutation($r: ID!, $i: ID!, $c: ID) { engageResource(resourceId: $r, incidentId: $i, commandId: $c) { id } }`
		occupy   = `mutation($r: ID!, $n: Int!, $c: ID) { setShelterOccupancy(resourceId: $r, occupancy: $n, commandId: $c) { id } }`
		request  = `mutation($in: RequestReinforcementInput!, $c: ID) { requestReinforcement(input: $in, commandId: $c) { id } }`
	)
	// Ids are chosen here so that later steps can name them.
	var steps []func() error
	ids := map[string]string{}
	add := func(g client.Client, key, domain, kind, name string, capacity int) {
		steps = append(steps, func() error {
			var r struct{ RegisterResource struct{ ID string } }
			in := map[string]any{"domain": domain, "kind": kind, "name": name}
			if capacity > 0 {
				in["capacity"] = capacity
			}
			if err := g.Do(ctx, register, map[string]any{"in": in, "c": "demo-res-" + key}, &r); err != nil {
				return err
			}
			ids[key] = r.RegisterResource.ID
			return nil
		})
	}
	add(rac, "pm", "dep:30/com:30189", "TEAM", "Police municipale — équipe 2", 0)
	add(rac, "st", "dep:30/com:30189", "TEAM", "Services techniques — astreinte voirie", 0)
	add(rac, "rcs", "dep:30/com:30189", "TEAM", "Réserve communale de sécurité civile", 0)
	add(rac, "pump", "dep:30/com:30189", "EQUIPMENT", "Motopompe 60 m³/h", 0)
	add(rac, "drone", "dep:30/com:30189", "DRONE", "Drone caméra thermique", 0)
	add(rac, "gym", "dep:30/com:30189", "SHELTER", "Gymnase Jean Bouin", 120)
	add(sommieres, "salle", "dep:30/com:30321", "SHELTER", "Salle Maurice Ravel", 80)
	add(sommieres, "cam", "dep:30/com:30321", "CAMERA", "Caméra pont romain", 0)
	on := func(g client.Client, key, incident, cmd string) func() error {
		return func() error { return mutate(g, engage, map[string]any{"r": ids[key], "i": incident, "c": cmd})() }
	}
	fill := func(g client.Client, key string, n int, cmd string) func() error {
		return func() error { return mutate(g, occupy, map[string]any{"r": ids[key], "n": n, "c": cmd})() }
	}
	steps = append(steps,
		on(rac, "pm", nimesFlood, "demo-eng-1"),
		on(rac, "st", nimesFlood, "demo-eng-2"),
		on(rac, "pump", nimesFlood, "demo-eng-3"),
		on(rac, "drone", nimesFlood, "demo-eng-4"),
		fill(rac, "gym", 87, "demo-occ-1"),
		fill(sommieres, "salle", 64, "demo-occ-2"),
		func() error {
			var r struct{ RequestReinforcement struct{ ID string } }
			err := sommieres.Do(ctx, request, map[string]any{"c": "demo-rf-1", "in": map[string]any{
				"domain": "dep:30/com:30321", "incidentId": vidourle, "kind": "EQUIPMENT", "quantity": 4,
				"reason": "Motopompes pour les caves du centre ancien"}}, &r)
			if err != nil {
				return err
			}
			return mutate(cod, `mutation($id: ID!, $q: Int!, $n: String, $c: ID) { acceptReinforcement(id: $id, quantity: $q, note: $n, commandId: $c) { id } }`,
				map[string]any{"id": r.RequestReinforcement.ID, "q": 2, "n": "Deux motopompes de la réserve départementale", "c": "demo-rf-2"})()
		},
	)
	return steps
}
