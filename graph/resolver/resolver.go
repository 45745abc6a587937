// Package resolver answers the gateway's GraphQL operations: queries read the Redis
// read models, mutations call the services over gRPC with the caller's identity, and
// every one of them is authorized here through the policies first.
package resolver

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/graph/notices"
	"vigie/policies"
	"vigie/policies/journal"
	"vigie/projections/replay"
	alertspb "vigie/services/alerts/alertspb"
	incidentspb "vigie/services/incidents/incidentspb"
	resourcespb "vigie/services/resources/resourcespb"
	"vigie/services/roles/rolespb"
)

// Resolver holds what every resolver needs.
type Resolver struct {
	Redis          redis.UniversalClient
	Authz          *policies.Authorizer
	Notices        *notices.Hub
	Incidents      incidentspb.IncidentsClient
	Roles          rolespb.RolesClient
	Resources      resourcespb.ResourcesClient
	Reinforcements resourcespb.ReinforcementsClient
	Alerts         alertspb.AlertsClient
	Residents      alertspb.ResidentsClient
	// Replay builds replays, reports and decision delays from the log (a
	// *replay.Replayer); nil: they answer UNAVAILABLE.
	Replay Replayer
	// Journal is the security journal: refusals, grants and exports are noted in it,
	// admins read it (securityJournal); nil: nothing is noted, the query answers
	// UNAVAILABLE.
	Journal *journal.Journal
	// ConsistencyWait bounds how long a mutation waits for the read model to show its
	// change (read-your-writes); 2 s when zero.
	ConsistencyWait time.Duration

	// replays shares one replay between the callers who ask for the same boards at
	// the same time.
	replays flights
}

// Replayer is what the after-action review asks of projections/replay: an interface,
// so that a test can count and hold the replays a request causes.
type Replayer interface {
	Boards(ctx context.Context, domain string, at time.Time) (*replay.Boards, error)
	Delays(ctx context.Context, domain string, from, to time.Time) (replay.Delays, error)
	Report(ctx context.Context, o replay.ReportOptions) (*replay.Report, error)
}

var _ Replayer = (*replay.Replayer)(nil)
