package web

import (
	"context"
	"fmt"
	"net/http"
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
