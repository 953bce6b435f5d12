package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
)

// PlanYAML returns the YAML of the sunset's current plan, as it was applied.
func (c *Client) PlanYAML(ctx context.Context, name string) ([]byte, error) {
	u := c.baseURL() + sunsetPath(name, "/plan")
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.baseURL(), err)
	}
	c.authorize(hr)
	resp, err := c.httpClient().Do(hr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &UnreachableError{URL: c.baseURL(), Err: err}
		}
		return nil, fmt.Errorf("calling the Sunset server at %s: %w", c.baseURL(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of GET %s: %w", u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, responseProblem(resp, data)
	}
	return data, nil
}
