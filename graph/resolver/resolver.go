// Package resolver answers the gateway's GraphQL operations: queries read the Redis
// read models, mutations call the services over gRPC with the caller's identity, and
// every one of them is authorized here through the policies first.
package resolver

import (
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/graph/notices"
	"vigie/policies"
	"vigie/projections/replay"
	alertspb "vigie/services/alerts/alertspb"
	incidentspb "vigie/services/incidents/incidentspb"
	resourcespb "vigie/services/resources/resourcespb"
)

// Resolver holds what every resolver needs.
type Resolver struct {
	Redis          redis.UniversalClient
	Authz          *policies.Authorizer
	Notices        *notices.Hub
	Incidents      incidentspb.IncidentsClient
	Roles          incidentspb.RolesClient
	Resources      resourcespb.ResourcesClient
	Reinforcements resourcespb.ReinforcementsClient
	Alerts         alertspb.AlertsClient
	Residents      alertspb.ResidentsClient
	// Replay builds replays, reports and decision delays from the log; nil: they
	// answer UNAVAILABLE.
	Replay *replay.Replayer
	// ConsistencyWait bounds how long a mutation waits for the read model to show its
	// change (read-your-writes); 2 s when zero.
	ConsistencyWait time.Duration
}
