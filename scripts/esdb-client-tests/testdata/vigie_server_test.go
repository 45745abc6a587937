// Vigie's stand-in for the official Go client's esdb/containers_test.go, which starts
// EventStoreDB in Docker. scripts/esdb-client-tests/run deletes that file from a scratch
// copy of the client module and puts this one in its place: the client's tests then talk
// to the server already listening at $VIGIE_ESDB_ENDPOINT (host:port, one node): insecure,
// or with EVENTSTORE_INSECURE=false a secure one (TLS, admin:changeit as the client's
// tests expect; $VIGIE_ESDB_CA is the CA file of `vigie serve eventstore --secure`).
//
// It declares only what the client's other test files use. The pre-populated database of
// the client's Docker image (its datasets and their exact $all positions) cannot be
// reproduced here, so CreatePopulatedDatabase gives no client: the tests that need it skip,
// as in the client's own cluster runs.
//
// It lives under testdata/ so that the go tool of Vigie's root module never compiles it.

package esdb_test

import (
	"os"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Container is the handle the client's tests pass around; only Endpoint is read.
type Container struct {
	Endpoint string
}

// Close leaves the server running: the script owns it.
func (*Container) Close() {}

type streamNames struct{}

// Generate returns a stream name no earlier run can have used.
func (streamNames) Generate() string { return "client-test-" + uuid.NewString() }

var NAME_GENERATOR streamNames

func GetEnvOrDefault(key, defaultValue string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return defaultValue
}

// IsESDBVersion20 is false: the server claims no EventStoreDB 20.x behaviour.
func IsESDBVersion20() bool { return false }

func endpoint(t *testing.T) string {
	addr := os.Getenv("VIGIE_ESDB_ENDPOINT")
	if addr == "" {
		t.Fatal("VIGIE_ESDB_ENDPOINT is not set (host:port of the server under test)")
	}
	if GetEnvOrDefault("CLUSTER", "false") != "false" {
		t.Fatal("only CLUSTER=false is supported: one node")
	}
	return addr
}

func CreateClient(connStr string, t *testing.T) *esdb.Client {
	config, err := esdb.ParseConnectionString(connStr)
	if err != nil {
		t.Fatalf("connection string %q: %v", connStr, err)
	}
	client, err := esdb.NewClient(config)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return client
}

func GetClient(t *testing.T, container *Container) *esdb.Client {
	if GetEnvOrDefault("EVENTSTORE_INSECURE", "true") == "true" {
		return CreateClient("esdb://"+container.Endpoint+"?tls=false", t)
	}
	return CreateClient("esdb://admin:changeit@"+container.Endpoint+"?tls=true&tlsCAFile="+os.Getenv("VIGIE_ESDB_CA"), t)
}

func CreateEmptyDatabase(t *testing.T) (*Container, *esdb.Client) {
	container := &Container{Endpoint: endpoint(t)}
	return container, GetClient(t, container)
}

func CreatePopulatedDatabase(t *testing.T) (*Container, *esdb.Client) {
	t.Log("no pre-populated database: the tests that need its datasets skip")
	return nil, nil
}

// WaitForAdminToBeAvailable has nothing to wait for: the script starts the tests once the
// server listens and, secure, once admin's password is the tests'.
func WaitForAdminToBeAvailable(t *testing.T, db *esdb.Client) {}
