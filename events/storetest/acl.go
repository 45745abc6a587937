package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// ACLUsers are the URLs of three callers of one secure server, for RunACL: an admin
// and two users outside `$admins` (Alice and Bob), each with credentials and TLS.
type ACLUsers struct {
	Admin, Alice, Bob string
}

// RunACL runs the stream-ACL part of the contract: a stream's `$acl` metadata decides
// who reads, writes, deletes, and reads or writes its metadata; what it does not say
// follows the default ACL (`$settings`, by default every user for user streams and
// `$admins` for `$` streams, `$all` included). Refusals are PermissionDenied (the
// clients' ErrorCodeAccessDenied). The server must use ACLs (a real node's default;
// with stream policies on, ACLs are not enforced) with its default `$settings`.
func RunACL(t *testing.T, u ACLUsers) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	admin, alice, bob := Official(t, u.Admin, FailFast), Official(t, u.Alice, FailFast), Official(t, u.Bob, FailFast)
	alicesName := userOf(t, u.Alice)
	// withACL makes a stream with one event (by the admin) whose ACL grants op to Alice only.
	withACL := func(t *testing.T, set func(*esdb.Acl)) string {
		t.Helper()
		stream := "ctacl" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] + "-1"
		if _, err := admin.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, aclEvent()); err != nil {
			t.Fatal(err)
		}
		var acl esdb.Acl
		set(&acl)
		var meta esdb.StreamMetadata
		meta.SetAcl(acl)
		if _, err := admin.SetStreamMetadata(ctx, stream, esdb.AppendToStreamOptions{}, meta); err != nil {
			t.Fatal(err)
		}
		return stream
	}
	appendTo := func(c *esdb.Client, stream string) error {
		_, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, aclEvent())
		return err
	}
	read := func(c *esdb.Client, stream string) error {
		rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{}, 10)
		if err != nil {
			return err
		}
		defer rs.Close()
		_, err = rs.Recv()
		return err
	}
	grantedToAliceOnly := func(t *testing.T, what string, op func(*esdb.Client, string) error, set func(*esdb.Acl)) {
		t.Helper()
		stream := withACL(t, set)
		if err := op(bob, stream); esdbCode(err) != esdb.ErrorCodeAccessDenied {
			t.Fatalf("Bob, not named by the stream's ACL, could %s: %v (code %v)", what, err, esdbCode(err))
		}
		if err := op(alice, stream); err != nil {
			t.Fatalf("Alice, named by the stream's ACL, could not %s: %v", what, err)
		}
	}
	t.Run("WriteRoles", func(t *testing.T) {
		grantedToAliceOnly(t, "append", appendTo, func(a *esdb.Acl) { a.AddWriteRoles(alicesName) })
	})
	t.Run("ReadRoles", func(t *testing.T) {
		grantedToAliceOnly(t, "read", read, func(a *esdb.Acl) { a.AddReadRoles(alicesName) })
	})
	t.Run("DeleteRoles", func(t *testing.T) {
		grantedToAliceOnly(t, "delete", func(c *esdb.Client, s string) error {
			_, err := c.DeleteStream(ctx, s, esdb.DeleteStreamOptions{})
			return err
		}, func(a *esdb.Acl) { a.AddDeleteRoles(alicesName) })
	})
	t.Run("MetaReadRoles", func(t *testing.T) {
		grantedToAliceOnly(t, "read the metadata", func(c *esdb.Client, s string) error {
			_, err := c.GetStreamMetadata(ctx, s, esdb.ReadStreamOptions{})
			return err
		}, func(a *esdb.Acl) { a.AddMetaReadRoles(alicesName) })
	})
	t.Run("MetaWriteRoles", func(t *testing.T) {
		// The metadata write is the way to change the ACL itself: Bob may not grant himself.
		grantedToAliceOnly(t, "write the metadata", func(c *esdb.Client, s string) error {
			var acl esdb.Acl
			acl.AddWriteRoles("$all")
			acl.AddMetaWriteRoles("$all")
			var meta esdb.StreamMetadata
			meta.SetAcl(acl)
			_, err := c.SetStreamMetadata(ctx, s, esdb.AppendToStreamOptions{}, meta)
			return err
		}, func(a *esdb.Acl) { a.AddMetaWriteRoles(alicesName) })
	})
	t.Run("UnsetOperationsFollowTheDefault", func(t *testing.T) {
		// Only $w is set: reading stays open to every user ($userStreamAcl's default).
		stream := withACL(t, func(a *esdb.Acl) { a.AddWriteRoles(alicesName) })
		if err := read(bob, stream); err != nil {
			t.Fatalf("Bob could not read a stream whose ACL restricts only writing: %v", err)
		}
	})
	t.Run("AdminsPassEveryACL", func(t *testing.T) {
		stream := withACL(t, func(a *esdb.Acl) { a.AddWriteRoles(alicesName); a.AddReadRoles(alicesName) })
		if err := appendTo(admin, stream); err != nil {
			t.Fatalf("the admin could not append: %v", err)
		}
		if err := read(admin, stream); err != nil {
			t.Fatalf("the admin could not read: %v", err)
		}
	})
	t.Run("AllIsForAdminsByDefault", func(t *testing.T) {
		rs, err := bob.ReadAll(ctx, esdb.ReadAllOptions{}, 1)
		if err == nil {
			_, err = rs.Recv()
			rs.Close()
		}
		if esdbCode(err) != esdb.ErrorCodeAccessDenied {
			t.Fatalf("Bob read $all: %v (code %v)", err, esdbCode(err))
		}
	})
	t.Run("SettingsAreForAdmins", func(t *testing.T) {
		ev := esdb.EventData{EventID: uuid.New(), EventType: "$update-default-acl", ContentType: esdb.ContentTypeJson,
			Data: []byte(`{"$userStreamAcl":{"$r":"$all","$w":"$all","$d":"$all","$mr":"$all","$mw":"$all"}}`)}
		if _, err := bob.AppendToStream(ctx, "$settings", esdb.AppendToStreamOptions{}, ev); esdbCode(err) != esdb.ErrorCodeAccessDenied {
			t.Fatalf("Bob wrote $settings: %v (code %v)", err, esdbCode(err))
		}
	})
}

func aclEvent() esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: "AclProbe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
}

func userOf(t *testing.T, u string) string {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(u)
	if err != nil || cfg.Username == "" {
		t.Fatalf("RunACL needs URLs with credentials: %v", err)
	}
	return cfg.Username
}
