// Package client is the GraphQL client of Vigie's gateway for the tools that speak to
// it as a dashboard would: the demo's seed and the drill's replay both issue their
// commands through it, signed with a caller's token, so that they take the same path
// as a person's (authorization, rate budget, services' rules) and write nothing the
// gateway would not.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Client posts GraphQL operations to a gateway as one caller.
type Client struct {
	URL   string       // the gateway's /graphql
	Token string       // sent as Authorization: Bearer …
	HTTP  *http.Client // nil: http.DefaultClient
}

// Error is the first GraphQL error of an answer, with its code (extensions.code:
// FORBIDDEN, UNAVAILABLE, CONFLICT…), by which a caller decides whether a retry may help.
type Error struct{ Code, Message string }

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// Do runs query with vars and decodes the answer's data into out (nil: ignored); a
// GraphQL error comes back as an *Error.
func (c Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("HTTP %d, not a GraphQL answer: %w", resp.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return &Error{Code: r.Errors[0].Extensions.Code, Message: r.Errors[0].Message}
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}
