package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/plan"
)

// DefaultServerURL is where the CLI looks for `sunset serve` unless told otherwise.
const DefaultServerURL = "http://127.0.0.1:8080"

// defaultClientTimeout bounds a request when Client.HTTP is nil.
const defaultClientTimeout = 60 * time.Second

// maxResponseBody bounds how much of an answer the client reads.
const maxResponseBody = 64 << 20

// Client calls a Sunset server's API. The zero value talks to DefaultServerURL as the default
// actor. Its methods are safe for concurrent use.
//
// A non-2xx answer is returned as a *Problem: printing it shows the detail and every line of
// its errors (every plan problem), and errors.As finds a *sunset.Error in it, so
// sunset.ErrorCode tells not_found from conflict. A server that cannot be reached is an error
// saying so, naming the URL.
type Client struct {
	// BaseURL is the server's root URL, e.g. http://127.0.0.1:8080. Empty means DefaultServerURL.
	BaseURL string
	// HTTP sends the requests; nil means a client with a 60-second timeout.
	HTTP *http.Client
	// Actor is sent as X-Sunset-Actor on mutating calls; empty lets the server record "api".
	// A server with authentication records the token's name instead.
	Actor string
	// Token is the API token sent as "Authorization: Bearer TOKEN" on every call; empty sends
	// none (a server without authentication needs none).
	Token string
}

// Apply sends a plan's YAML; file names it in problems ("FILE:LINE:COL: ..."). An invalid plan is
// a *Problem whose Errors hold every problem line. A plan that references files needs
// ApplyBundle.
func (c *Client) Apply(ctx context.Context, file string, yaml []byte) (*engine.ApplyResult, error) {
	q := url.Values{}
	if file != "" {
		q.Set("file", file)
	}
	var res engine.ApplyResult
	err := c.do(ctx, http.MethodPost, "/api/v1/plans", q, "application/yaml", yaml, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// ApplyBundle sends a plan with every file it references as one multipart/form-data stream:
// the part plan (its filename is file) and one part per reference, named as the plan writes
// it, its bytes read from files as the request goes out — a large contacts file is never held
// in memory. refs are the plan's references (plan.References).
func (c *Client) ApplyBundle(ctx context.Context, file string, yaml []byte, refs []plan.Reference, files plan.Files) (*engine.ApplyResult, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "plan", "filename": file}))
			h.Set("Content-Type", "application/yaml")
			w, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			if _, err := w.Write(yaml); err != nil {
				return err
			}
			if files != nil {
				err = files(refs, func(name string, body io.Reader) error {
					h := textproto.MIMEHeader{}
					h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": name, "filename": name}))
					h.Set("Content-Type", "text/csv")
					w, err := mw.CreatePart(h)
					if err != nil {
						return err
					}
					_, err = io.Copy(w, body)
					return err
				})
				if err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL()+"/api/v1/plans", pr)
	if err != nil {
		pr.CloseWithError(err)
		return nil, fmt.Errorf("bad server URL %q: %w", c.baseURL(), err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if c.Actor != "" {
		req.Header.Set(ActorHeader, c.Actor)
	}
	data, err := c.send(req)
	pr.CloseWithError(errors.New("request done"))
	if err != nil {
		var re *plan.RefError
		if errors.As(err, &re) {
			return nil, re
		}
		return nil, err
	}
	var res engine.ApplyResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("the answer of POST /api/v1/plans is not the JSON expected (%v); is %s a Sunset server?", err, c.baseURL())
	}
	return &res, nil
}

// List returns the status of every sunset.
func (c *Client) List(ctx context.Context) ([]*engine.Status, error) {
	var list []*engine.Status
	if err := c.do(ctx, http.MethodGet, "/api/v1/sunsets", nil, "", nil, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// Get returns the status of the sunset called name.
func (c *Client) Get(ctx context.Context, name string) (*engine.Status, error) {
	var st engine.Status
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, ""), nil, "", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Timeline returns the sunset's actions and their progress, in the plan's time zone.
func (c *Client) Timeline(ctx context.Context, name string) (*Timeline, error) {
	var tl Timeline
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/timeline"), nil, "", nil, &tl); err != nil {
		return nil, err
	}
	return &tl, nil
}

// Events returns the sunset's audit events, oldest first.
func (c *Client) Events(ctx context.Context, name string) ([]engine.Event, error) {
	var events []engine.Event
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/events"), nil, "", nil, &events); err != nil {
		return nil, err
	}
	return events, nil
}

// VerifyEvents asks the server to check the sunset's event hash chain. A broken chain is not an
// error: the Verification says OK false and lists the problems.
func (c *Client) VerifyEvents(ctx context.Context, name string) (*engine.Verification, error) {
	var v engine.Verification
	if err := c.do(ctx, http.MethodGet, sunsetPath(name, "/events/verify"), nil, "", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Pause holds the sunset's future actions; the server requires a reason.
func (c *Client) Pause(ctx context.Context, name, reason string) (*engine.Sunset, error) {
	return c.transition(ctx, name, "/pause", reason)
}

// Resume releases a paused sunset; the server requires a reason.
func (c *Client) Resume(ctx context.Context, name, reason string) (*engine.Sunset, error) {
	return c.transition(ctx, name, "/resume", reason)
}

// Skip marks the sunset's action key skipped, with a reason the server requires; a sunset
// paused by that action's failures resumes.
func (c *Client) Skip(ctx context.Context, name, key, reason string) (*engine.Sunset, error) {
	body, err := json.Marshal(SkipRequest{Action: key, Reason: reason})
	if err != nil {
		return nil, err
	}
	var s engine.Sunset
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/skip"), nil, "application/json", body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Cancel ends the sunset for good; reason may be empty.
func (c *Client) Cancel(ctx context.Context, name, reason string) (*engine.Sunset, error) {
	return c.transition(ctx, name, "/cancel", reason)
}

// RecordUsage sends a usage batch to the named sunset (POST /api/v1/sunsets/{name}/usage).
// applied is false when the server had already recorded the batch's (gateway, seq): re-sending
// a batch is safe.
func (c *Client) RecordUsage(ctx context.Context, name string, b gateway.Batch) (applied bool, err error) {
	body, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	var res UsageResult
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/usage"), nil, "application/json", body, &res); err != nil {
		return false, err
	}
	return res.Applied, nil
}

// Signoff records that stakeholder signed off the sunset's plan.
func (c *Client) Signoff(ctx context.Context, name, stakeholder string) (*engine.Sunset, error) {
	body, err := json.Marshal(SignoffRequest{Stakeholder: stakeholder})
	if err != nil {
		return nil, err
	}
	var s engine.Sunset
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, "/signoffs"), nil, "application/json", body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// transition posts a TransitionRequest to one of the sunset's state-changing routes.
func (c *Client) transition(ctx context.Context, name, verb, reason string) (*engine.Sunset, error) {
	body, err := json.Marshal(TransitionRequest{Reason: reason})
	if err != nil {
		return nil, err
	}
	var s engine.Sunset
	if err := c.do(ctx, http.MethodPost, sunsetPath(name, verb), nil, "application/json", body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// sunsetPath returns the API path of the sunset called name followed by sub.
func sunsetPath(name, sub string) string {
	return "/api/v1/sunsets/" + url.PathEscape(name) + sub
}

// baseURL returns BaseURL without a trailing slash, or DefaultServerURL.
func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultServerURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// httpClient returns HTTP or a client with the default timeout.
func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: defaultClientTimeout}
}

// do sends one request and decodes a 2xx JSON answer into out; any other answer becomes an error
// (see Client).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, contentType string, body []byte, out any) error {
	u := c.baseURL() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("bad server URL %q: %w", c.baseURL(), err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Actor != "" && method != http.MethodGet {
		req.Header.Set(ActorHeader, c.Actor)
	}
	data, err := c.send(req)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the answer of %s %s is not the JSON expected (%v); is %s a Sunset server?", method, u, err, c.baseURL())
	}
	return nil
}

// send sends req with the client's credentials and returns the answer's body: a 2xx answer's, or
// an error — *UnreachableError when nothing listens, the server's *Problem for any other status.
func (c *Client) send(req *http.Request) ([]byte, error) {
	c.authorize(req)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &UnreachableError{URL: c.baseURL(), Err: err}
		}
		return nil, fmt.Errorf("calling the Sunset server at %s: %w", c.baseURL(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s %s: %w", req.Method, req.URL, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, responseProblem(resp, data)
	}
	return data, nil
}

// responseProblem turns a non-2xx answer into a *Problem: the server's own problem details when
// it sent them, otherwise one built from the status and the start of the body.
func responseProblem(resp *http.Response, data []byte) *Problem {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == problem.ContentType || mt == "application/json" {
		var p Problem
		if json.Unmarshal(data, &p) == nil && (p.Title != "" || p.Detail != "") {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			return &p
		}
	}
	detail := strings.TrimSpace(string(data))
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	if detail == "" {
		detail = resp.Status
	}
	return &Problem{
		Title:  http.StatusText(resp.StatusCode),
		Status: resp.StatusCode,
		Detail: fmt.Sprintf("The server answered %s: %s", resp.Status, detail),
	}
}

// UnreachableError is returned by Client methods when nothing listens at the server URL.
type UnreachableError struct {
	// URL is the server URL that was tried.
	URL string
	// Err is the connection error.
	Err error
}

// Error says that the server cannot be reached and how to fix it.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Sunset server at %s: is `sunset serve` running? (use --server to point elsewhere)", e.URL)
}

// Unwrap returns the connection error and a *sunset.Error (code internal) carrying the same
// sentence, so that sunset.ErrorMessage shows it rather than a generic message.
func (e *UnreachableError) Unwrap() []error {
	return []error{&sunset.Error{Code: sunset.EINTERNAL, Message: e.Error()}, e.Err}
}

// authorize adds the client's token to req, if it has one.
func (c *Client) authorize(req *http.Request) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
}
