package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/sunsetops/sunset/feedback"
)

// Feedback fetches the sunset's feedback summary.
func (c *Client) FeedbackSummary(ctx context.Context, name string) (*feedback.Summary, error) {
	var res feedback.Summary
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/feedback/summary"), nil, "", nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ImportFeedback uploads a CSV export of feedback.
func (c *Client) ImportFeedback(ctx context.Context, name string, csv []byte) (*ImportResult, error) {
	var res ImportResult
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/feedback/import"), nil, "text/csv", csv, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SendFeedback posts one piece of feedback through the API.
func (c *Client) SendFeedback(ctx context.Context, name string, in feedback.Input) (*feedback.Feedback, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var res feedback.Feedback
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/feedback"), nil, "application/json", body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}
