package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/notify/channels"
	notifymetrics "github.com/sunsetops/sunset/notify/metrics"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web"
)

// systemConfig is everything in which `sunset serve` and `sunset rehearse` differ: the database,
// the clock, the environment (and so the channels' secrets), how often the parts look for work,
// and whether a gateway runs in-process. Zero durations mean each part's default.
type systemConfig struct {
	// DB is the database as --db names it (sqlite:PATH or postgres://...).
	DB string
	// Runtime is the clock the sunsets' timelines run on (pinned by --now, simulated by a
	// rehearsal) and the logger, handed to every part.
	Runtime sunset.Runtime
	// Getenv reads the secrets of channels, backups and exports.
	Getenv func(string) string
	// Stdout receives the gateway's "Gateway on ..." line.
	Stdout io.Writer
	// PublicURL is where users reach the public pages: the links in notices, feeds and exports.
	PublicURL string
	// AllowLoopbackLinks sends notices whose links point at a loopback PublicURL to recipients
	// elsewhere too; without it they are held (notify.StatusHeld) until a public URL is set.
	AllowLoopbackLinks bool
	// ReplicaID names this process among the replicas of one database; empty for a rehearsal.
	ReplicaID string
	// Example loads the bundled example plan when the database holds no sunset.
	Example bool
	// FeedbackPerMinute is how many feedback posts one sunset takes a minute; zero means 60.
	FeedbackPerMinute int

	// EnginePoll and GuardrailEvery are the engine's intervals.
	EnginePoll, GuardrailEvery time.Duration
	// RunbookEvery is how often the runbook worker looks for runs, RunbookPoll how often a
	// running step checks again (drain, waits).
	RunbookEvery, RunbookPoll time.Duration
	// RunLease is how long a replica's claim on a runbook run lasts.
	RunLease time.Duration
	// NoticePoll is how often the notice worker looks for deliveries, NoticeLease how long its
	// claim on one lasts.
	NoticePoll, NoticeLease time.Duration
	// Traffic, when set, is the drain step's meter instead of the gateways' usage counts.
	Traffic runbook.TrafficMeter

	// Gateway, when set, runs the gateway in the same process.
	Gateway *gatewayConfig
}

// gatewayConfig is the in-process gateway of a system (serve --upstream).
type gatewayConfig struct {
	// Upstream is the retiring service; Listen where clients reach the gateway.
	Upstream, Listen string
	// Service is the sunset to enforce (empty: the only one, or the one naming Upstream).
	Service string
	// FlushEvery is how often it stores its usage counts.
	FlushEvery time.Duration
}

// system is the whole of Sunset in one process: store, engine and its handlers, the guardrails'
// signals, runbook and export workers, notice delivery, the in-process gateway and the web
// server. serve and rehearse build it with assemble and differ only in its systemConfig.
type system struct {
	cfg    systemConfig
	Store  *store.DB
	Engine *engine.Engine
	Data   *dataServices
	// Web is the API, UI and public pages; the caller may set its Auth before Start.
	Web *web.Server
	// GatewayAddr is where the in-process gateway listens, once started.
	GatewayAddr string

	notices        *notify.Worker
	gatewayMetrics *gateway.Metrics
	stopGateway    func()
	http           *http.Server
	stops          []func() // in the order they were started
	stopOnce       sync.Once
}

// assemble opens the database and wires every part on it, starting nothing: the engine's
// handlers (notices, runbooks, data deletion), the guardrails' signals, the workers and the web
// server. The example plan, if configured, is applied. Stop closes what assemble opened.
func assemble(ctx context.Context, cfg systemConfig) (_ *system, err error) {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	s := &system{cfg: cfg}
	// The replica's name keys its heartbeat row, written by /readyz (store.DB.Ready).
	if s.Store, err = openStore(ctx, cfg.DB, cfg.Runtime.Log(), store.WithReplica(cfg.ReplicaID)); err != nil {
		return nil, fail("open database: %v", err)
	}
	s.stops = append(s.stops, func() { s.Store.Close() })
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	st, rt, logger := s.Store, cfg.Runtime, cfg.Runtime.Log()
	ecfg := engine.Config{Store: st, Clock: rt.Clock, Logger: logger,
		PollInterval: cfg.EnginePoll, GuardrailInterval: cfg.GuardrailEvery}
	if cfg.ReplicaID != "" {
		// River's client id names the replica in its leader election and job attempts; a random
		// suffix keeps two processes apart even if they were given the same --replica-id.
		ecfg.ClientID = cfg.ReplicaID + "-" + randomSuffix()
	}
	if s.Engine, err = engine.New(ecfg); err != nil {
		return nil, err
	}
	eng := s.Engine
	// Owners get task reminders, in a rehearsal too; before the example plan is applied, so that
	// its owners get them as well.
	if err := scheduleReminders(ctx, eng, st); err != nil {
		return nil, err
	}
	if err := tidyContacts(ctx, st, logger); err != nil {
		return nil, err
	}
	if cfg.Example {
		if err := loadExample(ctx, eng, logger); err != nil {
			return nil, err
		}
	}
	// Guardrails read users' feedback, the gateways' usage and answers, and the consumers'
	// tiers from their contacts.
	tiers := st.ContactTiers() // the contacts stored with each sunset's plan bundle
	eng.RegisterSignals("feedback", st.Feedback().TieredSignals(tiers))
	eng.RegisterSignals("consumers", st.ConsumerSignals(tiers))
	eng.RegisterSignals("gateway", st.GatewaySignals(tiers))

	s.Data = wireData(st, eng, rt, cfg.Getenv)
	s.Data.worker.Owner, s.Data.worker.LeaseTTL = cfg.ReplicaID, cfg.RunLease
	s.Data.control.Owner = cfg.ReplicaID
	s.Data.worker.Every, s.Data.runner.PollEvery = cfg.RunbookEvery, cfg.RunbookPoll
	if cfg.Traffic != nil {
		s.Data.runner.Traffic = cfg.Traffic
	}

	key, err := st.SigningKey(ctx, unsubscribeKeyName)
	if err != nil {
		return nil, err
	}
	h := &notify.Handler{Outbox: st.Outbox()}
	eng.Register(plan.KindNotice, h)
	eng.OnReplan(h)
	eng.OnTrip(h)  // owners hear when a guardrail pauses the sunset
	eng.OnStall(h) // and when a failing action does
	s.notices = &notify.Worker{
		Outbox: st.Outbox(), Channels: channels.Factory(channels.Options{Getenv: cfg.Getenv}),
		Clock: rt.Clock, Logger: logger.With("component", "notify"), PublicURL: cfg.PublicURL, UnsubscribeKey: key,
		ExportURL: s.Data.exports.ExportURL, Lease: cfg.NoticeLease, Poll: cfg.NoticePoll,
		AllowLoopbackLinks: cfg.AllowLoopbackLinks,
	}

	// The public forms' tokens are signed with a key every replica shares (web/intake.go).
	intakeKey, err := st.SigningKey(ctx, "intake")
	if err != nil {
		return nil, err
	}
	s.Web = &web.Server{
		Engine: eng, Logger: logger, Ready: st.Ready, Version: version, Now: rt.Now,
		Usage: st.Usage(), Phases: st, Feedback: st.Feedback(), Themer: feedback.NewThemer(),
		Runbooks: s.Data.web.runbooks, Exports: s.Data.web.exports, Retention: s.Data.web.retention, Reports: st, Contacts: st,
		Replica: cfg.ReplicaID,
		Notices: st.Outbox(), UnsubscribeKey: key, PublicURL: cfg.PublicURL, IntakeKey: intakeKey,
		FeedbackPerSunset: cfg.FeedbackPerMinute,
	}
	noticeMetrics := notifymetrics.New(s.notices.Breakers, st.Outbox().Depth, rt)
	s.notices.Observe = noticeMetrics.Observe
	s.Web.Breakers = s.notices.Breakers
	more := prometheus.Gatherers{noticeMetrics.Gatherer()}
	if cfg.Gateway != nil {
		s.gatewayMetrics = gateway.NewMetrics()
		more = append(more, s.gatewayMetrics.Gatherer())
	}
	s.Web.MoreMetrics = more
	return s, nil
}

// tidyContacts drops the contact sets of uploads a previous run did not finish, and warns about
// each sunset whose stored plan names a contacts file its revision does not carry.
func tidyContacts(ctx context.Context, st *store.DB, logger *slog.Logger) error {
	// Contacts of uploads a previous run did not finish (a crash mid-apply) are not kept. The
	// store stamps contact sets on its own clock, the wall clock (it is not given the sunsets'
	// clock: its heartbeat and write health measure this process), so the hour is measured on
	// the wall clock too: on a pinned clock it would drop uploads in progress, or never any.
	if n, err := st.PruneContacts(ctx, time.Now().Add(-time.Hour)); err != nil {
		return err
	} else if n > 0 {
		logger.Info("dropped contact sets of unfinished uploads", "sets", n)
	}
	missing, err := st.SunsetsMissingContacts(ctx)
	if err != nil {
		return err
	}
	for _, n := range missing {
		logger.Warn("the plan names a contacts file its stored revision does not carry (applied before plans travelled with their files): its notices to contacts fail until the plan is applied again with it",
			"sunset", n, "fix", "sunset apply FILE")
	}
	return nil
}

// Start starts the engine, the workers, the in-process gateway and the web server on ln; the
// web server answers until Stop. The workers stop when ctx ends or on Stop.
func (s *system) Start(ctx context.Context, ln net.Listener) error {
	if err := s.Engine.Start(ctx); err != nil {
		return err
	}
	s.stops = append(s.stops, s.Engine.Stop)
	if err := s.Data.worker.Start(ctx); err != nil {
		return err
	}
	s.stops = append(s.stops, s.Data.worker.Stop, s.Data.exportRuns.Stop, s.Data.control.Stop)
	if err := s.notices.Start(ctx); err != nil {
		return err
	}
	s.stops = append(s.stops, s.notices.Stop)
	if g := s.cfg.Gateway; g != nil {
		stop, addr, err := startServeGateway(ctx, *g, s.Data.phases, s.gatewayMetrics, s.Engine, s.Store, s.cfg.Runtime, s.cfg.Stdout)
		if err != nil {
			return err
		}
		s.stopGateway, s.GatewayAddr = sync.OnceFunc(stop), addr
		s.stops = append(s.stops, s.stopGateway)
	}
	s.http = &http.Server{
		Handler:           s.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.cfg.Runtime.Log().Handler(), slog.LevelWarn),
	}
	ln = gateway.GuardFraming(s.http, ln)
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Runtime.Log().Error("serve", "err", err)
		}
	}()
	return nil
}

// StopGateway stops the in-process gateway, which stores its last usage counts; Stop does it
// too. A rehearsal calls it before writing the report, which needs those counts.
func (s *system) StopGateway() {
	if s.stopGateway != nil {
		s.stopGateway()
	}
}

// Stop shuts the web server down (waiting up to 15s for requests in flight), stops every part
// in the reverse order of its start, and closes the database. It is safe to call before Start
// and more than once.
func (s *system) Stop() {
	s.stopOnce.Do(func() {
		if s.http != nil {
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			if err := s.http.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.cfg.Runtime.Log().Warn("http shutdown", "err", err)
			}
			cancel()
		}
		for i := len(s.stops) - 1; i >= 0; i-- {
			s.stops[i]()
		}
	})
}
