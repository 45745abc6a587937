package embedded_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"vigie/events/embedded"
)

// rawClient speaks the protocol without the official client's guard rails, to send
// what a buggy or hostile client could.
func rawClient(t *testing.T, srv *embedded.Server) streams.StreamsClient {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return streams.NewStreamsClient(conn)
}

func appendOptions(stream string, expected any) *streams.AppendReq {
	o := &streams.AppendReq_Options{StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)}}
	switch e := expected.(type) {
	case *streams.AppendReq_Options_Any:
		o.ExpectedStreamRevision = e
	case nil:
	}
	return &streams.AppendReq{Content: &streams.AppendReq_Options_{Options: o}}
}

func proposed(id *shared.UUID, typ string, data []byte) *streams.AppendReq {
	md := map[string]string{"content-type": "application/json"}
	if typ != "" {
		md["type"] = typ
	}
	return &streams.AppendReq{Content: &streams.AppendReq_ProposedMessage_{ProposedMessage: &streams.AppendReq_ProposedMessage{Id: id, Metadata: md, Data: data}}}
}

func stringID() *shared.UUID {
	return &shared.UUID{Value: &shared.UUID_String_{String_: uuid.NewString()}}
}

var anyRevision = &streams.AppendReq_Options_Any{Any: &shared.Empty{}}

func rawAppend(ctx context.Context, c streams.StreamsClient, msgs ...*streams.AppendReq) (*streams.AppendResp, metadata.MD, error) {
	call, err := c.Append(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range msgs {
		if err := call.Send(m); err != nil {
			break // the server answered early; CloseAndRecv tells why
		}
	}
	resp, err := call.CloseAndRecv()
	return resp, call.Trailer(), err
}

func TestBadInputGetsInvalidArgumentAndWritesNothing(t *testing.T) {
	st, srv, _ := startServer(t)
	c := rawClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := make([]byte, embedded.DefaultMaxAppendSize/2+1)
	cases := []struct {
		name string
		msgs []*streams.AppendReq
		want string
	}{
		{"no options first", []*streams.AppendReq{proposed(stringID(), "T", nil)}, "options"},
		{"empty stream name", []*streams.AppendReq{appendOptions("", anyRevision), proposed(stringID(), "T", nil)}, "empty"},
		{"reserved $ stream", []*streams.AppendReq{appendOptions("$all", anyRevision), proposed(stringID(), "T", nil)}, "reserved"},
		{"NUL in stream name", []*streams.AppendReq{appendOptions("a\x00b", anyRevision), proposed(stringID(), "T", nil)}, "NUL"},
		{"too long stream name", []*streams.AppendReq{appendOptions(strings.Repeat("x", 2000), anyRevision), proposed(stringID(), "T", nil)}, "longer"},
		{"unknown expected revision", []*streams.AppendReq{appendOptions("s-1", nil), proposed(stringID(), "T", nil)}, "expected"},
		{"options twice", []*streams.AppendReq{appendOptions("s-1", anyRevision), appendOptions("s-1", anyRevision)}, "twice"},
		{"missing event id", []*streams.AppendReq{appendOptions("s-1", anyRevision), proposed(nil, "T", nil)}, "id"},
		{"malformed event id", []*streams.AppendReq{appendOptions("s-1", anyRevision), proposed(&shared.UUID{Value: &shared.UUID_String_{String_: "not-a-uuid"}}, "T", nil)}, "UUID"},
		{"missing event type", []*streams.AppendReq{appendOptions("s-1", anyRevision), proposed(stringID(), "", nil)}, "type"},
		{"append over 1 MiB", []*streams.AppendReq{appendOptions("s-1", anyRevision), proposed(stringID(), "T", big), proposed(stringID(), "T", big)}, "maximum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, trailer, err := rawAppend(ctx, c, tc.msgs...)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Fatalf("want InvalidArgument mentioning %q, got %v", tc.want, err)
			}
			if tc.name == "append over 1 MiB" && trailer.Get("exception")[0] != "maximum-append-size-exceeded" {
				t.Fatalf("trailer %v", trailer)
			}
		})
	}
	if h := st.Head(); h != 0 {
		t.Fatalf("bad input wrote %d events", h)
	}
	// The server is still healthy after all of it.
	if _, _, err := rawAppend(ctx, c, appendOptions("s-1", anyRevision), proposed(stringID(), "T", []byte("{}"))); err != nil {
		t.Fatal(err)
	}
	if st.Head() != 1 {
		t.Fatalf("head %d after one good append", st.Head())
	}
}

func TestBadReadsAreRefused(t *testing.T) {
	_, srv, _ := startServer(t)
	c := rawClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all := &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}}
	cases := map[string]*streams.ReadReq{
		"no options":        {},
		"no count":          {Options: &streams.ReadReq_Options{StreamOption: all}},
		"no stream or $all": {Options: &streams.ReadReq_Options{CountOption: &streams.ReadReq_Options_Count{Count: 1}}},
		"bad regex": {Options: &streams.ReadReq_Options{StreamOption: all, CountOption: &streams.ReadReq_Options_Subscription{Subscription: &streams.ReadReq_Options_SubscriptionOptions{}},
			FilterOption: &streams.ReadReq_Options_Filter{Filter: &streams.ReadReq_Options_FilterOptions{Filter: &streams.ReadReq_Options_FilterOptions_StreamIdentifier{StreamIdentifier: &streams.ReadReq_Options_FilterOptions_Expression{Regex: "("}}}}}},
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			call, err := c.Read(ctx, req)
			if err == nil {
				_, err = call.Recv()
			}
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("want InvalidArgument, got %v", err)
			}
		})
	}
}

func TestTombstonedStreamAnswersStreamDeleted(t *testing.T) {
	_, _, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := esdb.EventData{EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte("{}")}
	if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{}, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TombstoneStream(ctx, "s-1", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Revision(0)}); err != nil {
		t.Fatal(err)
	}
	var esErr *esdb.Error
	_, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{}, ev)
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("append after tombstone: %v", err)
	}
	rs, err := c.ReadStream(ctx, "s-1", esdb.ReadStreamOptions{}, 10)
	if err == nil {
		_, err = rs.Recv()
	}
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("read after tombstone: %v", err)
	}
}

func TestSoftDeletedStreamIsNotFoundThenContinues(t *testing.T) {
	_, _, c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := esdb.EventData{EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte("{}")}
	if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{}, ev, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStream(ctx, "s-1", esdb.DeleteStreamOptions{ExpectedRevision: esdb.Revision(1)}); err != nil {
		t.Fatal(err)
	}
	rs, err := c.ReadStream(ctx, "s-1", esdb.ReadStreamOptions{}, 10)
	if err == nil {
		_, err = rs.Recv()
	}
	var esErr *esdb.Error
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeResourceNotFound {
		t.Fatalf("read after delete: %v", err)
	}
	res, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 2 {
		t.Fatalf("revisions should continue after a soft delete, got %d", res.NextExpectedVersion)
	}
	rs, err = c.ReadStream(ctx, "s-1", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var revs []uint64
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, e.Event.EventNumber)
	}
	if len(revs) != 1 || revs[0] != 2 {
		t.Fatalf("after delete and re-append, read %v, want [2]", revs)
	}
}

func TestInsecureOnlyOnLoopback(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		if srv, err := st.Listen(embedded.ListenConfig{Addr: addr}); err == nil {
			srv.Close()
			t.Fatalf("%s accepted without TLS", addr)
		}
	}
	if _, err := st.Listen(embedded.ListenConfig{Addr: "127.0.0.1:0", CertFile: "only-cert.pem"}); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
}

func TestTLSServesTheOfficialClient(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	st, err := embedded.Open(embedded.Config{Dir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := st.Listen(embedded.ListenConfig{Addr: "0.0.0.0:0", CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Addr())
	cfg, err := esdb.ParseConnectionString("esdb://localhost:" + port + "?tls=true&tlsCAFile=" + certFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.AppendToStream(ctx, "s-1", esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
