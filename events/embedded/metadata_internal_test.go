package embedded

import (
	"testing"
	"time"
)

// Metadata is parsed as EventStoreDB's StreamMetadata.FromJsonReader does: strictly,
// and ignored whole when anything is off.
func TestParseMetaIsStrictAndAllOrNothing(t *testing.T) {
	cases := []struct {
		json string
		want streamMeta
	}{
		{`{"$maxCount":4,"$maxAge":60,"$tb":2,"$cacheControl":10,"$tempStream":true,"owner":{"a":[1,2]}}`, streamMeta{maxCount: 4, maxAge: time.Minute, tb: 2}},
		{`{"$acl":{"$r":"$admins","$w":["a","b"],"$d":[],"$mr":"x","$mw":"y"},"$maxCount":1}`, streamMeta{maxCount: 1, tb: -1}},
		{` {"$tb":9223372036854775807} `, streamMeta{tb: deletedStream}},
		{`{"$maxCount":0,"$maxAge":-5,"$tb":-1}`, noMeta},   // ignored one by one
		{`{"$maxCount":-3,"$tb":7}`, streamMeta{tb: 7}},     // only the bad one goes
		{`{"$maxAge":1.5,"$maxCount":4}`, noMeta},           // a float: all ignored
		{`{"$maxCount":4,,"$maxAge":}`, noMeta},             // malformed
		{`{"$maxCount":"4"}`, noMeta},                       // a string
		{`{"$tb":9223372036854775808}`, noMeta},             // beyond a long
		{`{"$tempStream":"yes","$maxCount":4}`, noMeta},     // not a boolean
		{`{"$acl":{"$x":"a"},"$maxCount":4}`, noMeta},       // unknown ACL key
		{`{"$acl":{"$r":[1]},"$maxCount":4}`, noMeta},       // roles are strings
		{`{"$acl":"$userStreamAcl","$maxCount":4}`, noMeta}, // the server wants an object
		{`[1]`, noMeta},
		{`null`, noMeta},
		{``, noMeta},
	}
	for _, tc := range cases {
		if got := parseMeta([]byte(tc.json)); got != tc.want {
			t.Errorf("parseMeta(%s) = %+v, want %+v", tc.json, got, tc.want)
		}
	}
}

func TestWithTruncateBeforeKeepsTheOtherProperties(t *testing.T) {
	got := withTruncateBefore([]byte(`{"owner":"x","$tb":9223372036854775807,"$maxCount":3}`), 4)
	if string(got) != `{"$maxCount":3,"$tb":4,"owner":"x"}` {
		t.Errorf("withTruncateBefore = %s", got)
	}
	if got := withTruncateBefore([]byte(`not json`), 4); got != nil {
		t.Errorf("withTruncateBefore of invalid JSON = %s, want nil (left as it is)", got)
	}
}
