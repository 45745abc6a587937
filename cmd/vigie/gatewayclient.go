package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// gatewayClient posts GraphQL operations to a gateway as one caller: the demo's seed and
// the drill's replay both speak to Vigie through it, as a dashboard would.
type gatewayClient struct {
	url   string // the gateway's /graphql
	token string
	http  *http.Client // nil: http.DefaultClient
}

// gatewayError is the first GraphQL error of an answer, with its code
// (extensions.code: FORBIDDEN, UNAVAILABLE, CONFLICT…).
type gatewayError struct{ code, message string }

func (e *gatewayError) Error() string {
	if e.code == "" {
		return e.message
	}
	return e.code + ": " + e.message
}

// do runs query with vars and decodes the answer's data into out (nil: ignored); a
// GraphQL error comes back as a *gatewayError.
func (c gatewayClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	hc := c.http
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
		return &gatewayError{code: r.Errors[0].Extensions.Code, message: r.Errors[0].Message}
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}
