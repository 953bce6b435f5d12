package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/policy"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web/api"
)

// servePolicyInterval is how often the in-process gateway of `sunset serve --upstream` reads the
// engine's plan and the store's laggards; it reads the database, not HTTP, so it can be short.
const servePolicyInterval = 2 * time.Second

// serveGateway is the gateway that `sunset serve --upstream` runs in the same process as the
// engine: its policy is compiled from the engine's current plan of the sunset (with the
// laggards the store knows), and its usage is written to the store directly.
type serveGateway struct {
	eng      *engine.Engine
	usage    *store.Usage
	clock    sunset.Clock
	gw       *gateway.Gateway
	logger   *slog.Logger
	service  string // --gateway-service; empty means the sunset of --upstream
	upstream string // --upstream
	phases   api.PhaseOverrides

	mu   sync.Mutex
	name string   // the sunset enforced
	sum  [32]byte // SHA-256 of the JSON of the snapshot enforced
}

// startServeGateway starts the in-process gateway on g.Listen in front of g.Upstream, counting
// into metrics, and returns the function that stops it (drains requests, flushes usage) and the
// address it listens on. A switch of phases (a runbook's gateway step) refreshes the policy at once.
func startServeGateway(ctx context.Context, g gatewayConfig, phases *runbook.PhaseSwitch, metrics *gateway.Metrics, eng *engine.Engine, st *store.DB, rt sunset.Runtime, stdout io.Writer) (func(), string, error) {
	target, err := url.Parse(g.Upstream)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, "", &exitError{code: 2, msg: fmt.Sprintf("--upstream %q: use http://HOST:PORT or https://HOST", g.Upstream)}
	}
	rt = rt.With("component", "gateway")
	logger := rt.Log()
	usage := gateway.NewUsage()
	sg := &serveGateway{eng: eng, usage: st.Usage(), clock: rt, logger: logger, service: g.Service, upstream: g.Upstream, phases: st,
		gw: gateway.New(nil, gateway.Options{Clock: rt, Usage: usage, Metrics: metrics, Logger: logger})}
	if err := sg.refresh(ctx); err != nil {
		// Not fatal: the sunset may be applied later; until then requests pass untouched.
		logger.Warn("no policy to enforce yet; requests pass untouched", "error", err.Error())
	}
	ln, err := net.Listen("tcp", g.Listen)
	if err != nil {
		return nil, "", fail("listen on %s (--listen-gateway): %v", g.Listen, err)
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(servePolicyInterval)
		defer t.Stop()
		for {
			select {
			case <-loopCtx.Done():
				return
			case <-t.C:
			}
			if err := sg.refresh(loopCtx); err != nil && loopCtx.Err() == nil {
				logger.Warn("cannot refresh the policy; the gateway keeps the last one", "error", err.Error())
			}
		}
	}()
	if phases != nil {
		phases.OnSwitch(func(ctx context.Context) {
			if err := sg.refresh(ctx); err != nil {
				logger.Warn("cannot apply the phase switch yet; the next refresh retries", "error", err.Error())
			}
		})
	}
	fl := &gateway.Flusher{Usage: usage, Sink: sg, Gateway: "serve-" + gateway.NewGatewayID(), Metrics: metrics, Logger: logger,
		Interval: g.FlushEvery}
	fl.Start(loopCtx)
	srv := &http.Server{
		Handler:           sg.gw.Wrap(gateway.NewProxy(target, gateway.ProxyOptions{Metrics: metrics, Logger: logger})),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go srv.Serve(gateway.GuardFraming(srv, ln))
	fmt.Fprintf(stdout, "Gateway on http://%s → %s\n", ln.Addr(), target)
	return func() {
		shutdownCtx, stop := context.WithTimeout(context.Background(), 15*time.Second)
		defer stop()
		if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("gateway shutdown", "err", err)
		}
		cancel()
		<-done
		fl.Stop() // the last counts, after the last request
	}, ln.Addr().String(), nil
}

// refresh builds the sunset's enforced policy snapshot — as the control plane's policy
// endpoint does (api.EnforcedSnapshot) — and makes it the gateway's policy when it changed. On
// error the gateway keeps the policy it has.
func (sg *serveGateway) refresh(ctx context.Context) error {
	name, err := sg.sunsetName(ctx)
	if err != nil {
		return err
	}
	snap, err := api.EnforcedSnapshot(ctx, sg.eng, sg.usage, sg.phases, name, sg.clock.Now())
	if err != nil {
		return err
	}
	body, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	sg.mu.Lock()
	same := sg.name == name && sg.sum == sum && sg.gw.Policy() != nil
	sg.mu.Unlock()
	if same {
		return nil
	}
	pol, err := policy.FromSnapshot(snap)
	if err != nil {
		return err
	}
	sg.gw.SetPolicy(pol)
	sg.mu.Lock()
	sg.name, sg.sum = name, sum
	sg.mu.Unlock()
	sg.logger.Info("policy loaded", "sunset", name, "laggards", len(snap.Laggards))
	return nil
}

// sunsetName is the sunset to enforce: --gateway-service, or else the only sunset that is not
// cancelled, or else the one whose plan's service.upstream is --upstream.
func (sg *serveGateway) sunsetName(ctx context.Context) (string, error) {
	if sg.service != "" {
		return sg.service, nil
	}
	all, err := sg.eng.List(ctx)
	if err != nil {
		return "", err
	}
	var live []string
	for _, s := range all {
		if s.State != engine.StateCancelled {
			live = append(live, s.Name)
		}
	}
	switch len(live) {
	case 1:
		return live[0], nil
	case 0:
		return "", errors.New("no sunset is applied yet")
	}
	var match []string
	for _, name := range live {
		if p, _, err := sg.eng.Plan(ctx, name); err == nil && p.Service.Upstream == sg.upstream {
			match = append(match, name)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return "", fmt.Errorf("%d sunsets are applied and %d name %s as their upstream; name the one to enforce with --gateway-service", len(live), len(match), sg.upstream)
}

// Flush stores a usage batch of the in-process gateway, once per sequence number.
func (sg *serveGateway) Flush(ctx context.Context, b gateway.Batch) error {
	sg.mu.Lock()
	name := sg.name
	sg.mu.Unlock()
	if name == "" {
		return nil // nothing was enforced, so nothing was counted against a sunset
	}
	_, err := sg.usage.RecordUsage(ctx, name, b)
	return err
}

// Interface guards.
var _ gateway.Sink = (*serveGateway)(nil)
