package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// PlanYAML returns the YAML of the sunset's current plan, as it was applied.
func (c *Client) PlanYAML(ctx context.Context, name string) ([]byte, error) {
	u := c.baseURL() + sunsetPath(name, "/plan")
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.baseURL(), err)
	}
	return c.send(hr)
}

// NextPlan returns the start of a new plan made from the sunset's plan and report (YAML, with
// TODO markers and the past sunset's lessons), announced on announce (YYYY-MM-DD; empty: a
// week from the server's today).
func (c *Client) NextPlan(ctx context.Context, name, announce string) ([]byte, error) {
	u := c.baseURL() + sunsetPath(name, "/next-plan")
	if announce != "" {
		u += "?" + url.Values{"announce": {announce}}.Encode()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.baseURL(), err)
	}
	return c.send(hr)
}
