package projections

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vigie/events"
	"vigie/events/store"
)

// Event is one event of the log, decoded, as a projection sees it.
type Event struct {
	Position store.Position
	StreamID string
	Revision uint64
	Type     string
	Created  time.Time // when the store recorded it
	Event    events.Event
	Meta     events.Metadata
}

// Projection builds one read model.
type Projection interface {
	// Name names the read model in keys, metrics and `vigie projections rebuild NAME`.
	Name() string
	// StreamPrefixes are the streams it reads, e.g. "incident-".
	StreamPrefixes() []string
	// Registry decodes the events it reads.
	Registry() *events.Registry
	// Apply projects a batch, in log order. It reads the model as committed before the
	// batch through m.R (what earlier events of the same batch changed is the
	// projection's own business: it works on what it read, in memory) and stages its
	// writes on m.W, which commit atomically with the checkpoint. It must check an
	// event before changing anything for it: an error parks the event.
	Apply(ctx context.Context, m *Model, batch []Event) error
}

// Model is a projection's access to Redis during one batch.
type Model struct {
	Keys
	R       redis.Cmdable   // reads of the committed model
	W       redis.Pipeliner // writes, committed with the checkpoint
	notices []Notice
}

// Notify announces, once the batch is committed, that a domain's board changed.
func (m *Model) Notify(n Notice) { m.notices = append(m.notices, n) }

// Notice is what the gateway turns into a GraphQL subscription event.
type Notice struct {
	Projection string         `json:"projection"`
	Domain     string         `json:"domain"`
	StreamID   string         `json:"streamId"`
	Type       string         `json:"type"`
	At         time.Time      `json:"at"`
	Position   store.Position `json:"position"`
}

// NoticeChannel is the Redis pub/sub channel of a domain's notices. A commune's notices
// also go to its département's channel, for the prefecture.
func NoticeChannel(domain string) string { return NoticeChannelIn("", domain) }

// NoticeChannelIn is NoticeChannel in a namespace. Redis pub/sub ignores database
// numbers, so deployments (or tests) sharing one Redis server keep their notices
// apart with a namespace of their own.
func NoticeChannelIn(namespace, domain string) string {
	return "vigie:" + namespace + "notices:" + domain
}

// Keys names the Redis keys of one version of one read model.
type Keys struct {
	space   string // "" for the live read models; see DeleteSpace
	name    string
	version int64
}

// KeysOf names the keys of a read model's version.
func KeysOf(name string, version int64) Keys { return Keys{name: name, version: version} }

// KeysIn names the keys of a read model's version in a key space apart from the live
// read models, e.g. vigie:replay:3f2a:{incidents}:v1:board:dep:30.
func KeysIn(space, name string, version int64) Keys {
	return Keys{space: space, name: name, version: version}
}

// A key space holds read models apart from the live ones: a replay builds the boards
// as they were at an instant into a disposable space with the projections' own code
// and reads them with the boards' own queries, each Reader told its Space. A space is
// "" for the live read models, else words ending in a colon without braces (the hash
// tag stays the model's name), e.g. "replay:3f2a:". It is always an explicit
// argument, never carried by a context: a board reader cannot read a replay unless it
// is given its space.

// DeleteSpace removes every key of a key space: a replay's, once read.
func DeleteSpace(ctx context.Context, rdb redis.UniversalClient, space string) error {
	if space == "" {
		return errors.New("projections: the live read models are not a space to delete")
	}
	return deletePrefix(ctx, rdb, "vigie:"+space)
}

// Key joins parts under the model's prefix, e.g. vigie:{incidents}:v2:board:dep:30/com:30189.
func (k Keys) Key(parts ...string) string {
	return k.Prefix() + strings.Join(parts, ":")
}

// Prefix is what every key of this version starts with.
func (k Keys) Prefix() string {
	return "vigie:" + k.space + "{" + k.name + "}:v" + itoa(k.version) + ":"
}

// checkpoint is where the version's position in the log is kept.
func (k Keys) checkpoint() string { return k.Key("checkpoint") }

// Per read model, version-independent keys.
func metaKey(name string) string { return metaKeyIn("", name) }
func metaKeyIn(space, name string) string {
	return "vigie:" + space + "{" + name + "}:meta"
}
func leaseKey(name string) string      { return "vigie:{" + name + "}:lease" }
func fenceKey(name string) string      { return "vigie:{" + name + "}:fence" }
func deadLetterKey(name string) string { return "vigie:{" + name + "}:deadletter" }

// Docs reads the JSON documents stored at kind:<id> for each id, in order, skipping the
// ids that have none: the one way every board's queries load their documents.
func Docs[T any](ctx context.Context, rdb redis.Cmdable, k Keys, kind string, ids []string) ([]T, error) {
	out := make([]T, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = k.Key(kind, id)
	}
	vals, err := rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var doc T
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}

// Scopes are the domains a read model files something of domain under: a commune's
// and its département's (the prefecture reads the département), or a département's
// alone (a grant on "dep:30/*" is the département's).
func Scopes(domain string) []string {
	dep, _, found := strings.Cut(domain, "/")
	if !found || strings.HasSuffix(domain, "/*") {
		return []string{dep}
	}
	return []string{domain, dep}
}
