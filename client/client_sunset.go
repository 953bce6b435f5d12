package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/notify"
)

// Replan shifts every instant of the sunset that still lies ahead.
func (c *Client) Replan(ctx context.Context, name, shift, reason string) (*engine.ShiftResult, error) {
	body, err := json.Marshal(ReplanRequest{Shift: shift, Reason: reason})
	if err != nil {
		return nil, err
	}
	var res engine.ShiftResult
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/replan"), nil, "application/json", body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Guardrails evaluates the sunset's guardrails now.
func (c *Client) Guardrails(ctx context.Context, name string) ([]engine.GuardrailResult, error) {
	var res []engine.GuardrailResult
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/guardrails"), nil, "", nil, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// Notices fetches the ledger of who was told about the sunset.
func (c *Client) Notices(ctx context.Context, name string) (*notify.Ledger, error) {
	var res notify.Ledger
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/notices"), nil, "", nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
