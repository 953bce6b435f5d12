package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/startstop"
)

// maxSnapshotSize bounds a policy snapshot read from the control plane.
const maxSnapshotSize = 16 << 20

// PlanFile keeps a Gateway's policy in step with a plan file: it loads the file, then checks it
// every Interval and reloads it when its content changes. A new plan that does not parse,
// validate or compile is not used: the gateway keeps the last good policy, and the reason is
// logged and counted (sunset_gateway_policy_loads_total{result="error"}, and
// sunset_gateway_policy_stale is 1 until a good plan is loaded).
type PlanFile struct {
	Path     string
	Gateway  *Gateway
	Interval time.Duration // zero means 1s
	Options  policy.Options
	Metrics  *Metrics
	Logger   *slog.Logger

	sum  [32]byte
	life startstop.Loop
}

// Load reads, validates and compiles the plan file and installs its policy. It fails, and
// changes nothing, when the plan is unusable.
func (f *PlanFile) Load() error {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if sum == f.sum {
		return nil
	}
	p, problems := plan.Parse(f.Path, data)
	if err := problems.Err(); err != nil {
		return err
	}
	pol, err := policy.Compile(p, f.Options)
	if err != nil {
		return err
	}
	f.Gateway.SetPolicy(pol)
	f.sum = sum
	return nil
}

// Start loads the plan and watches it until Stop or ctx ends. The first load must succeed.
func (f *PlanFile) Start(ctx context.Context) error {
	if err := f.Load(); err != nil {
		return err
	}
	f.Metrics.loaded("ok")
	interval := f.Interval
	if interval <= 0 {
		interval = time.Second
	}
	_ = f.life.Every(ctx, interval, func(ctx context.Context) {
		before := f.sum
		if err := f.Load(); err != nil {
			f.Metrics.loaded("error")
			f.Metrics.stale(true)
			logger(f.Logger).Error("the plan file changed but cannot be used; the gateway keeps enforcing the previous plan",
				slog.String("plan", f.Path), slog.String("error", err.Error()))
			return
		}
		f.Metrics.stale(false)
		if f.sum != before {
			f.Metrics.loaded("ok")
			logger(f.Logger).Info("plan reloaded", slog.String("plan", f.Path))
		} else {
			f.Metrics.loaded("unchanged")
		}
	})
	return nil
}

// Stop ends the watch; it is safe before Start and twice.
func (f *PlanFile) Stop() { f.life.Stop() }

// ControlPlane keeps a Gateway's policy in step with the control plane (`sunset serve`): it
// polls GET {Server}/api/v1/sunsets/{Service}/policy with If-None-Match every Interval. When
// the control plane cannot be reached or answers an error, the gateway keeps enforcing the last
// good policy, sunset_gateway_policy_stale is 1, sunset_gateway_control_plane_up is 0, and the
// failure is logged. With Cache set, the
// last good snapshot is written there and read at start, so a restarted gateway enforces it even
// while the control plane is down.
type ControlPlane struct {
	Server   string
	Service  string
	Gateway  *Gateway
	Interval time.Duration // zero means 10s
	Client   *http.Client  // nil means a client with a 10s timeout
	Cache    string
	Metrics  *Metrics
	Logger   *slog.Logger

	etag string
	life startstop.Loop
}

// PolicyURL is the control plane's policy endpoint for the service.
func (c *ControlPlane) PolicyURL() string {
	return c.Server + "/api/v1/sunsets/" + url.PathEscape(c.Service) + "/policy"
}

// Fetch asks the control plane once; a 304 keeps the policy, a 200 installs the new one.
func (c *ControlPlane) Fetch(ctx context.Context) error {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.PolicyURL(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if c.etag != "" {
		req.Header.Set("If-None-Match", c.etag)
	}
	resp, err := client.Do(req)
	if err != nil {
		c.Metrics.controlPlane(false)
		return err
	}
	defer resp.Body.Close()
	c.Metrics.controlPlane(resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotModified)
	switch resp.StatusCode {
	case http.StatusNotModified:
		c.Metrics.loaded("unchanged")
		return nil
	case http.StatusOK:
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("control plane answered %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSnapshotSize+1))
	if err != nil {
		return err
	}
	if len(data) > maxSnapshotSize {
		return errors.New("policy snapshot too large")
	}
	if err := c.install(data); err != nil {
		return err
	}
	c.etag = resp.Header.Get("ETag")
	c.Metrics.loaded("ok")
	if c.Cache != "" {
		if err := writeFileAtomic(c.Cache, data); err != nil {
			logger(c.Logger).Warn("cannot cache the policy", slog.String("error", err.Error()))
		}
	}
	return nil
}

func (c *ControlPlane) install(data []byte) error {
	var s policy.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("policy snapshot: %v", err)
	}
	pol, err := policy.FromSnapshot(&s)
	if err != nil {
		return fmt.Errorf("policy snapshot: %v", err)
	}
	c.Gateway.SetPolicy(pol)
	return nil
}

// Start fetches the policy (or reads the cache when the control plane is down) and polls until
// Stop or ctx ends. It fails only when neither gives a policy.
func (c *ControlPlane) Start(ctx context.Context) error {
	if err := c.Fetch(ctx); err != nil {
		c.Metrics.stale(true)
		cached := false
		if c.Cache != "" {
			if data, rerr := os.ReadFile(c.Cache); rerr == nil && c.install(data) == nil {
				cached = true
				logger(c.Logger).Warn("control plane unreachable; enforcing the cached policy", slog.String("error", err.Error()))
			}
		}
		if !cached {
			return fmt.Errorf("cannot get the policy from %s: %v", c.PolicyURL(), err)
		}
	} else {
		c.Metrics.stale(false)
	}
	interval := c.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	_ = c.life.Every(ctx, interval, func(ctx context.Context) {
		if err := c.Fetch(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.Metrics.loaded("error")
			c.Metrics.stale(true)
			logger(c.Logger).Warn("control plane unreachable; the gateway keeps enforcing the last good policy", slog.String("error", err.Error()))
			return
		}
		c.Metrics.stale(false)
	})
	return nil
}

// Stop ends the polling; it is safe before Start and twice.
func (c *ControlPlane) Stop() { c.life.Stop() }

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
