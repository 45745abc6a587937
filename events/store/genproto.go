package store

// The official EventStoreDB client (v4.2.0) still requires the 2023 monolithic
// google.golang.org/genproto, whose googleapis/rpc packages have since moved to their
// own module: with both in the build, gRPC's status package is an ambiguous import.
// Importing a package of a recent genproto keeps a recent version required, even
// through `go mod tidy`, in every module that depends on this one.
import _ "google.golang.org/genproto/protobuf/api"
