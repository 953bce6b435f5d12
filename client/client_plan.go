package client

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

// Contacts returns how many contacts the sunset's current plan bundle carried, by tier and
// locale, and the files each revision carried; with rows, the contacts themselves.
func (c *Client) Contacts(ctx context.Context, name string, rows bool) (*ContactsAnswer, error) {
	var q url.Values
	if rows {
		q = url.Values{"rows": {"1"}}
	}
	var ans ContactsAnswer
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/contacts"), q, "", nil, &ans); err != nil {
		return nil, err
	}
	return &ans, nil
}

// EraseContact removes the contact with id from every stored revision of the sunset and
// returns how many stored rows it removed.
func (c *Client) EraseContact(ctx context.Context, name, id string) (int64, error) {
	var e Erased
	if err := c.do(ctx, http.MethodDelete, sunsetPath(name, "/contacts/"+url.PathEscape(id)), nil, "", nil, &e); err != nil {
		return 0, err
	}
	return e.Removed, nil
}
