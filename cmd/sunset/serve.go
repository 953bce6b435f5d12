package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/store/postgres"
	"github.com/sunsetops/sunset/store/sqlite"
)

type serveOptions struct {
	addr string
	// publicURL is where users reach the public pages; links in notices, feeds and exports.
	publicURL     string
	db            string
	example       bool
	logLevel      string
	allowInsecure bool
	// auth demands credentials even before any token exists.
	auth bool
	// oidc configures single sign-on (serve_auth.go).
	oidc oidcOptions
	// The in-process gateway (--upstream).
	upstream, listenGateway, gatewayService string
	// replicaID names this process among the replicas sharing a database; lease is how long its
	// claims on runbook runs and deliveries last without renewal (zero: each part's default).
	replicaID string
	lease     time.Duration
	// feedbackPerMinute is how many feedback and survey posts one sunset takes a minute.
	feedbackPerMinute int
	// allowLoopbackLinks sends notices whose links are loopback (no --public-url) to recipients
	// elsewhere anyway.
	allowLoopbackLinks bool
}

func (m *Main) serveCommand() *cobra.Command {
	o := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Sunset server: the engine that carries out sunsets, and its API",
		Long: `Serve runs the engine, which carries every applied plan through its timeline on durable
jobs, and the HTTP API that the CLI and UI talk to.

By default everything is kept in one SQLite file, ./sunset.db; nothing else is needed.
With --db postgres://... several replicas share one PostgreSQL database.
On an empty database the bundled example plan (orders-api-v1) is loaded so there is
something to look at; --example=false turns that off.

With --upstream the gateway runs in the same process (one binary, no polling over HTTP): on
--listen-gateway it enforces the sunset's current plan in front of the upstream and
counts usage straight into the database.

Notices link to the public pages at --public-url. Without it they would link to --addr, a
loopback address nobody else can open: serve then warns, and holds every notice to an email
address or to another host (state "held" in sunset notify status) until it is restarted with
--public-url; the held notices are sent then, with the public links. --allow-loopback-links
sends them as they are (a demo whose recipients sit at this machine).

--now starts the clock at another instant (it then runs at normal speed): a rehearsal
of a plan months ahead.`,
		Example: `  sunset serve
  sunset serve --addr 127.0.0.1:9090 --db sqlite:/var/lib/sunset/sunset.db
  sunset serve --db postgres://sunset@127.0.0.1:5432/sunset?sslmode=disable
  sunset serve --db postgres://sunset@127.0.0.1:5432/sunset?sslmode=disable --replica-id cp-2 --addr 127.0.0.1:8082   # a second replica
  sunset serve --addr 127.0.0.1:8080 --public-url https://sunset.example.com   # behind a proxy: links in notices use it
  sunset serve --now 2027-03-14T09:00:00+08:00   # rehearse the day before shutdown
  sunset serve --upstream http://127.0.0.1:9000 --listen-gateway 127.0.0.1:8081   # one binary: gateway in-process`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.publicURL, "public-url", "", "where users reach this server's public pages (e.g. https://sunset.example.com behind a proxy); the links in notices, feeds and export mails use it (default http://ADDR)")
	f.BoolVar(&o.allowLoopbackLinks, "allow-loopback-links", false, "send notices whose links point at a loopback address (no --public-url) to email addresses and other hosts anyway; without it they are held until --public-url is set")
	f.StringVar(&o.db, "db", "sqlite:sunset.db", "database: sqlite:PATH or postgres://USER@HOST:PORT/DB")
	f.BoolVar(&o.example, "example", true, "load the bundled example plan when the database holds no sunset")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.BoolVar(&o.allowInsecure, "insecure-listen-anywhere", false, "allow listening on a non-loopback address although no authentication is configured")
	f.BoolVar(&o.auth, "auth", false, "demand credentials on every non-public route even before any token exists (on by itself once `sunset token create` made one)")
	o.oidc.add(f)
	f.StringVar(&o.upstream, "upstream", "", "run the gateway in-process in front of this URL, enforcing the sunset's current plan")
	f.StringVar(&o.listenGateway, "listen-gateway", "127.0.0.1:8081", "with --upstream: address the gateway serves clients on")
	f.StringVar(&o.gatewayService, "gateway-service", "", "with --upstream: the sunset to enforce (default: the only one, or the one whose service.upstream is --upstream)")
	f.StringVar(&o.replicaID, "replica-id", "", "this replica's name in logs, metrics and work leases when several share one database (default HOSTNAME-PID)")
	f.IntVar(&o.feedbackPerMinute, "feedback-per-minute", 60, "feedback and survey posts one sunset takes a minute from all addresses together (429 beyond), beside each address's own limit of 10")
	f.DurationVar(&o.lease, "lease", 0, "how long another replica waits to take over the work of one that stopped: runbook runs (default 30s) and claimed notice deliveries (default 2m)")
	return cmd
}

// openStore opens the database named by a --db value, with opts after the logger.
func openStore(ctx context.Context, db string, logger *slog.Logger, opts ...store.Option) (*store.DB, error) {
	opts = append([]store.Option{store.WithLogger(logger)}, opts...)
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return postgres.Open(ctx, db, opts...)
	case strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(db, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, fail("--db sqlite: needs a file path, e.g. sqlite:sunset.db")
		}
		return sqlite.Open(ctx, path, opts...)
	default:
		return nil, fail("--db %q: use sqlite:PATH or postgres://USER@HOST:PORT/DB", db)
	}
}

func (m *Main) serve(ctx context.Context, o serveOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("--log-level %q: use debug, info, warn or error", o.logLevel)}
	}
	if o.replicaID == "" {
		o.replicaID = defaultReplicaID()
	}
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level})).With("replica", o.replicaID)
	if o.lease < 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("--lease %s: use a positive duration, e.g. 30s", o.lease)}
	}

	if o.feedbackPerMinute <= 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("--feedback-per-minute %d: use a positive number, e.g. 60", o.feedbackPerMinute)}
	}
	if _, err := isLoopback(o.addr); err != nil {
		return err
	}
	publicURL, err := servePublicURL(o.publicURL, o.addr)
	if err != nil {
		return err
	}
	var clock sunset.Clock = sunset.SystemClock{}
	if m.now != "" {
		t, err := parseNow(m.now)
		if err != nil {
			return err
		}
		clock = sunset.NewOffsetClock(t)
		logger.Warn("clock pinned for a rehearsal", "now", t.Format(time.RFC3339))
	}

	cfg := systemConfig{
		DB: o.db, Runtime: sunset.Runtime{Clock: clock, Logger: logger}, Getenv: m.Getenv, Stdout: m.Stdout, PublicURL: publicURL,
		ReplicaID: o.replicaID, Example: o.example,
		RunLease: o.lease, NoticeLease: o.lease, AllowLoopbackLinks: o.allowLoopbackLinks,
		FeedbackPerMinute: o.feedbackPerMinute,
	}
	if o.upstream != "" {
		cfg.Gateway = &gatewayConfig{Upstream: o.upstream, Listen: o.listenGateway, Service: o.gatewayService}
	}
	sys, err := assemble(ctx, cfg)
	if err != nil {
		return err
	}
	defer sys.Stop()
	linksWarning := notify.LoopbackWarning(publicURL, o.allowLoopbackLinks)
	if linksWarning != "" {
		logger.Warn("notices link to a loopback address", "public_url", publicURL, "held", !o.allowLoopbackLinks,
			"fix", "restart with --public-url set to where users reach this server")
	}
	sys.Web.NoticeLinksWarning = linksWarning
	auth, authOn, err := serveAuth(ctx, o, sys.Store, clock.Now(), publicURL, m.Getenv, logger)
	if err != nil {
		return err
	}
	sys.Web.Auth = auth
	if err := checkListenAddr(o.addr, authOn, o.allowInsecure); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fail("listen on %s: %v", o.addr, err)
	}
	if err := sys.Start(ctx, ln); err != nil {
		ln.Close()
		return err
	}
	if m.gatewayReady != nil && sys.GatewayAddr != "" {
		m.gatewayReady <- sys.GatewayAddr
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(m.Stdout, `Sunset is running on %s (database: %s)
  overview:   %s/
  API:        %s/api/v1/sunsets   (OpenAPI: %s/api/v1/openapi.json)
  health:     %s/healthz, %s/metrics
  from a shell: sunset status --server %s
Stop with Ctrl-C.
`, base, o.db, base, base, base, base, base, base)
	if linksWarning != "" {
		fmt.Fprintln(m.Stdout, linksWarning)
	}
	if m.ready != nil {
		m.ready <- ln.Addr().String()
	}
	<-ctx.Done()
	logger.Info("shutting down")
	return nil
}

// loadExample applies the bundled example plan when the store holds no sunset.
func loadExample(ctx context.Context, eng *engine.Engine, logger *slog.Logger) error {
	all, err := eng.List(ctx)
	if err != nil {
		return err
	}
	if len(all) > 0 {
		return nil
	}
	data, err := fs.ReadFile(examples.Files, examples.Default)
	if err != nil {
		return err
	}
	// The example is applied as a bundle, its contacts with it, like any operator's plan.
	res, err := eng.ApplyBundle(ctx, "examples/"+examples.Default, data, plan.FSFiles(examples.Files, "."), "sunset serve (example)")
	if err != nil {
		return fmt.Errorf("load the example plan: %w", err)
	}
	logger.Info("empty database: loaded the example plan", "sunset", res.Sunset.Name, "state", res.Sunset.State)
	return nil
}

// defaultReplicaID names this process HOSTNAME-PID: unique among the replicas of one database
// unless two hosts share a name.
func defaultReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "sunset"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// randomSuffix is 6 random hex digits.
func randomSuffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// servePublicURL is --public-url checked, or http://ADDR without it.
func servePublicURL(flag, addr string) (string, error) {
	if flag == "" {
		return "http://" + addr, nil
	}
	u, err := url.Parse(flag)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", &exitError{code: 2, msg: fmt.Sprintf("--public-url %q: use http(s)://HOST[:PORT][/PATH], e.g. https://sunset.example.com", flag)}
	}
	return strings.TrimRight(flag, "/"), nil
}
