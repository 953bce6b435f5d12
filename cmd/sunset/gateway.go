package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// gatewayGCPercent is the GOGC of `sunset gateway` when the environment sets none.
const gatewayGCPercent = 400

type gatewayOptions struct {
	listen, upstream, planFile, server, service string
	admin, usageFile, cache, logLevel           string
	tlsCert, tlsKey                             string
	trusted                                     []string
	h2c, noSimulate                             bool
	timeout, flush, poll                        time.Duration

	// token is the API token presented to the control plane (default $SUNSET_TOKEN).
	token string
}

// gatewayCommand is `sunset gateway`: the reverse proxy enforcing a plan in front of a service.
func (m *Main) gatewayCommand() *cobra.Command {
	o := gatewayOptions{}
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Enforce a plan in front of a service: Deprecation/Sunset headers, brownouts, read-only, 410",
		Long: `Gateway is a reverse proxy that enforces a sunset plan on live traffic. Every answer of a
deprecated feature carries Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers;
brownouts fail calls on schedule with Retry-After; read_only refuses writes with 503;
gone features answer 410 (or 308 to their replacement) with an RFC 9457 problem, or an
HTML page in English or Chinese for browsers.

The policy comes from a plan file (--plan, reloaded when it changes; an invalid new plan
is refused and the previous one stays in force) or from the control plane (--server and
--service: 'sunset serve' polled with ETag; when it is unreachable the gateway keeps the
last good policy and sunset_gateway_policy_stale is 1 on the admin /metrics).

Usage is counted per feature, consumer and hour and flushed to --usage-file (standalone)
or to the control plane. A client can rehearse a phase with the request header
"Sunset-Simulate: gone" (or brownout, read_only, redirect, deprecated); see docs/gateway.md.`,
		Example: `  # In front of a local service, with the plan file
  sunset gateway --listen 127.0.0.1:8081 --upstream http://127.0.0.1:9000 --plan examples/api-v2.yaml

  # Rehearse the day after shutdown, then look at the answers
  sunset gateway --plan examples/api-v2.yaml --upstream http://127.0.0.1:9000 --now 2027-03-16T10:00:00+08:00
  curl -i -H 'X-API-Key: acme-dev' http://127.0.0.1:8081/v1/orders/42

  # Fed by the control plane, behind a load balancer at 10.0.0.0/8
  sunset gateway --server http://127.0.0.1:8080 --service orders-api-v1 \
      --upstream http://10.1.2.3:9000 --listen :8081 --trusted-proxy 10.0.0.0/8

  # Mark retired operations in an OpenAPI document
  sunset gateway openapi examples/api-v2.yaml openapi.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.gateway(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8081", "address to serve clients on")
	f.StringVar(&o.upstream, "upstream", "", "URL of the retiring service (default: the plan's service.upstream)")
	f.StringVar(&o.planFile, "plan", "", "plan file to enforce (reloaded when it changes)")
	f.StringVar(&o.server, "server", "", "control plane URL ('sunset serve'), with --service")
	f.StringVar(&o.service, "service", "", "name of the sunset to enforce, with --server")
	f.StringVar(&o.token, "token", "", "API token for a control plane with authentication: viewer reads the policy, operator also sends usage (default $SUNSET_TOKEN)")
	f.StringVar(&o.admin, "admin", "127.0.0.1:9464", "address of /metrics and /healthz; empty to turn off")
	f.StringVar(&o.usageFile, "usage-file", "sunset-usage.jsonl", "standalone: file that usage batches are appended to (JSON lines); empty to turn off")
	f.StringVar(&o.cache, "cache", "", "with --server: file keeping the last good policy across restarts")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.tlsCert, "tls-cert", "", "certificate file: serve HTTPS (and HTTP/2) with --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "private key file for --tls-cert")
	f.StringSliceVar(&o.trusted, "trusted-proxy", nil, "CIDR or address whose X-Forwarded-For names the client (repeatable)")
	f.BoolVar(&o.h2c, "h2c", false, "also accept HTTP/2 without TLS (prior knowledge)")
	f.BoolVar(&o.noSimulate, "no-simulate", false, "ignore the Sunset-Simulate request header")
	f.DurationVar(&o.timeout, "upstream-timeout", 60*time.Second, "wait at most this long for the upstream's response headers (then 504)")
	f.DurationVar(&o.flush, "flush-interval", time.Minute, "how often usage counts are flushed")
	f.DurationVar(&o.poll, "poll-interval", 0, "how often the plan file (default 1s) or the control plane (default 10s) is checked")
	cmd.AddCommand(m.gatewayOpenAPICommand())
	return cmd
}

// gateway runs `sunset gateway` until ctx is done: it checks the flags, starts the policy
// source and the usage flusher, serves clients through the proxy (and the admin endpoints), and
// drains the requests in flight when it stops.
func (m *Main) gateway(ctx context.Context, o gatewayOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("--log-level %q: use debug, info, warn or error", o.logLevel)}
	}
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	if (o.planFile == "") == (o.server == "") {
		return &exitError{code: 2, msg: "give either --plan FILE or --server URL --service NAME"}
	}
	if o.server != "" && o.service == "" {
		return &exitError{code: 2, msg: "--server needs --service NAME"}
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return &exitError{code: 2, msg: "--tls-cert and --tls-key go together"}
	}
	trusted, err := gateway.ParseTrustedProxies(o.trusted)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("--trusted-proxy: %v", err)}
	}
	clock, err := m.clock()
	if err != nil {
		return err
	}
	if m.now != "" {
		logger.Warn("clock pinned for a rehearsal", "now", clock.Now().Format(time.RFC3339))
	}
	target, err := gatewayTarget(o)
	if err != nil {
		return err
	}

	if m.Getenv("GOGC") == "" {
		// The gateway keeps a few MB live and allocates a few KB per request (net/http's own
		// request and response), so with the default GOGC=100 it collects many times a second;
		// the profile shows GC and the scavenger at ~6% of its CPU. Four times the headroom
		// costs a few MB. GOGC in the environment still wins.
		debug.SetGCPercent(gatewayGCPercent)
	}
	metrics := gateway.NewMetrics()
	usage := gateway.NewUsage()
	gw := gateway.New(nil, gateway.Options{Clock: clock, TrustedProxies: trusted, Usage: usage, Metrics: metrics, NoSimulate: o.noSimulate, Logger: logger})

	// The policy source.
	stopSource, err := m.startPolicySource(ctx, o, gw, metrics, logger)
	if err != nil {
		return err
	}
	defer stopSource()

	// Usage: to the control plane, or to a local file.
	stopFlusher := m.startUsageFlusher(ctx, o, usage, metrics, logger)
	defer stopFlusher()

	proxy := gateway.NewProxy(target, gateway.ProxyOptions{Timeout: o.timeout, Metrics: metrics, Logger: logger})
	srv := &http.Server{
		Handler:           gw.Wrap(proxy),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(o.h2c)
	ln, err := gatewayListener(srv, o)
	if err != nil {
		return err
	}

	if o.admin != "" {
		adminSrv, err := m.startGatewayAdmin(&o, metrics)
		if err != nil {
			ln.Close()
			return err
		}
		defer adminSrv.Close()
	}

	source := "plan " + o.planFile
	if o.server != "" {
		source = "control plane " + o.server + " (" + o.service + ")"
	}
	fmt.Fprintf(m.Stdout, "Sunset gateway on %s → %s, enforcing %s\n", ln.Addr(), target, source)
	if o.admin != "" {
		fmt.Fprintf(m.Stdout, "  metrics: http://%s/metrics\n", o.admin)
	}
	if m.ready != nil {
		m.ready <- ln.Addr().String()
	}
	return serveUntilDone(ctx, srv, ln, logger)
}

// startUsageFlusher flushes the usage counts to the control plane (--server) or appends them to
// --usage-file, and returns what stops it after a last flush. With neither it does nothing.
func (m *Main) startUsageFlusher(ctx context.Context, o gatewayOptions, usage *gateway.Usage, metrics *gateway.Metrics, logger *slog.Logger) (stop func()) {
	var sink gateway.Sink
	switch {
	case o.server != "":
		sink = &gateway.ServerSink{Server: o.server, Service: o.service, Client: tokenClient(cmp.Or(o.token, m.Getenv("SUNSET_TOKEN")))}
	case o.usageFile != "":
		sink = &gateway.FileSink{Path: o.usageFile}
	default:
		return func() {}
	}
	fl := &gateway.Flusher{Usage: usage, Sink: sink, Gateway: gateway.NewGatewayID(), Interval: o.flush, Metrics: metrics, Logger: logger}
	fl.Start(ctx)
	return fl.Stop
}

// serveUntilDone serves srv on ln until ctx is done, then drains the requests in flight (30
// seconds at most). A server that stops by itself is an error.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fail("serve: %v", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("http shutdown", "err", err)
	}
	return nil
}

// gatewayTarget is the upstream the gateway forwards to: --upstream, else the plan's
// service.upstream.
func gatewayTarget(o gatewayOptions) (*url.URL, error) {
	upstream := o.upstream
	if upstream == "" && o.planFile != "" {
		if p, problems := plan.ParseFile(o.planFile); problems.Err() == nil {
			upstream = p.Service.Upstream
		}
	}
	if upstream == "" {
		return nil, &exitError{code: 2, msg: "--upstream URL is required (the plan names no service.upstream)"}
	}
	target, err := url.Parse(upstream)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("--upstream %q: use http://HOST:PORT or https://HOST", upstream)}
	}
	return target, nil
}

// startPolicySource starts feeding gw its policy: from the plan file, reloaded when it changes,
// or from the control plane. It returns what stops it.
func (m *Main) startPolicySource(ctx context.Context, o gatewayOptions, gw *gateway.Gateway, metrics *gateway.Metrics, logger *slog.Logger) (stop func(), err error) {
	if o.planFile != "" {
		pf := &gateway.PlanFile{Path: o.planFile, Gateway: gw, Interval: o.poll, Metrics: metrics, Logger: logger}
		if err := pf.Start(ctx); err != nil {
			return nil, fail("plan %s: %v", o.planFile, err)
		}
		return pf.Stop, nil
	}
	cp := &gateway.ControlPlane{Server: o.server, Service: o.service, Gateway: gw, Interval: o.poll, Cache: o.cache, Metrics: metrics, Logger: logger,
		Client: tokenClient(cmp.Or(o.token, m.Getenv("SUNSET_TOKEN")))}
	if err := cp.Start(ctx); err != nil {
		return nil, fail("%v", err)
	}
	return cp.Stop, nil
}

// gatewayListener listens for clients on --listen, with the framing guard, and with TLS when
// --tls-cert is given.
func gatewayListener(srv *http.Server, o gatewayOptions) (net.Listener, error) {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fail("listen on %s: %v", o.listen, err)
	}
	ln = gateway.GuardFraming(srv, ln) // under TLS: there it closes after chunked requests
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			ln.Close()
			return nil, fail("TLS: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	return ln, nil
}

// startGatewayAdmin serves /metrics and /healthz on --admin, and sets o.admin to the address
// it listens on (the port chosen when it was :0).
func (m *Main) startGatewayAdmin(o *gatewayOptions, metrics *gateway.Metrics) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	aln, err := net.Listen("tcp", o.admin)
	if err != nil {
		return nil, fail("listen on %s (--admin): %v", o.admin, err)
	}
	o.admin = aln.Addr().String()
	if m.adminReady != nil {
		m.adminReady <- o.admin
	}
	adminSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go adminSrv.Serve(aln)
	return adminSrv, nil
}

func (m *Main) gatewayOpenAPICommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "openapi PLAN SPEC",
		Short: "Mark the operations a plan retires in an OpenAPI document (deprecated: true, x-sunset)",
		Long: `Openapi rewrites an OpenAPI 3 document (JSON or YAML) so that every operation the plan
retires says so: deprecated: true, x-sunset (when it is gone, RFC 3339), x-deprecation,
x-sunset-feature and, for redirected features, x-sunset-successor. API docs and generated
clients then warn too. Operations are matched to the plan's features as requests are.
The document is rewritten in place unless --out names another file (- for stdout).`,
		Example: `  sunset gateway openapi examples/api-v2.yaml openapi.json
  sunset gateway openapi examples/api-v2.yaml openapi.yaml --out -`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, problems := plan.ParseFile(args[0])
			if err := problems.Err(); err != nil {
				return fail("%v", err)
			}
			pol, err := policy.Compile(p, policy.Options{})
			if err != nil {
				return fail("%v", err)
			}
			spec, err := os.ReadFile(args[1])
			if err != nil {
				return fail("%v", err)
			}
			res, err := gateway.AnnotateOpenAPI(spec, pol)
			if err != nil {
				return fail("%s: %v", args[1], err)
			}
			switch out {
			case "-":
				_, err = cmd.OutOrStdout().Write(res)
				return err
			case "":
				out = args[1]
			}
			if err := os.WriteFile(out, res, 0o644); err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write here instead of SPEC (- for stdout)")
	return cmd
}
