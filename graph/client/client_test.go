package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"vigie/graph/client"
)

// The client sends the caller's token and the operation, decodes the data, and hands
// back a GraphQL error with its code, which the drill's retries decide on.
func TestClientSendsTheTokenAndReturnsTheErrorsCode(t *testing.T) {
	var gotAuth, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		if strings.Contains(gotBody, "refuse") {
			io.WriteString(w, `{"errors":[{"message":"not yours","extensions":{"code":"FORBIDDEN"}}],"data":null}`)
			return
		}
		io.WriteString(w, `{"data":{"reportIncident":{"id":"i-1"}}}`)
	}))
	defer srv.Close()
	c := client.Client{URL: srv.URL, Token: "tok"}
	var out struct{ ReportIncident struct{ ID string } }
	if err := c.Do(context.Background(), "mutation { reportIncident { id } }", map[string]any{"x": 1}, &out); err != nil {
		t.Fatal(err)
	}
	if out.ReportIncident.ID != "i-1" || gotAuth != "Bearer tok" || !strings.Contains(gotBody, `"variables":{"x":1}`) {
		t.Errorf("answer %+v, Authorization %q, body %s", out, gotAuth, gotBody)
	}
	err := c.Do(context.Background(), "mutation { refuse }", nil, nil)
	var ge *client.Error
	if !errors.As(err, &ge) || ge.Code != "FORBIDDEN" || err.Error() != "FORBIDDEN: not yours" {
		t.Errorf("a refusal: %v", err)
	}
}

// An answer that is not GraphQL (a proxy's error page) says so with its HTTP status.
func TestClientSaysWhenTheAnswerIsNotGraphQL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	err := client.Client{URL: srv.URL}.Do(context.Background(), "query { x }", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("got %v, want the HTTP status", err)
	}
}
