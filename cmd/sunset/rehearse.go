package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/rehearse"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
)

// rehearseOptions are the flags of `sunset rehearse`.
type rehearseOptions struct {
	speed    float64
	duration time.Duration
	out      string
	format   string
	lang     string
	keep     bool
}

// rehearsalTarget is how long a rehearsal takes when neither --speed nor --duration is given.
const rehearsalTarget = 60 * time.Second

// rehearsalStragglerWindow is how long after the shutdown a rehearsal plays at full speed, to
// watch who still knocks; past it, quiet stretches before the next action are skipped.
const rehearsalStragglerWindow = 14 * 24 * time.Hour

func (m *Main) rehearseCommand() *cobra.Command {
	o := rehearseOptions{}
	cmd := &cobra.Command{
		Use:   "rehearse PLAN",
		Short: "Play a whole plan in compressed time on scratch data and write its report",
		Long: `Rehearse plays a plan from before its announcement to its last action in compressed
time, so a team can watch it work before the real date: the real engine on a scratch SQLite
database, the real gateway in front of a built-in sample upstream, synthetic consumers
(the plan's contacts) that call it, read their notices, migrate or lag and leave feedback
in English and Chinese, notices delivered to local sinks (an in-process SMTP server and a
webhook sink), feedback through the real feedback API, and the runbook running against
scratch copies of the data sources, its approvals granted by named rehearsal approvers.
It ends with the report.

Nothing real is touched: the plan's upstream, SMTP server, webhooks, chat rooms, data
sources, backup destinations and runbook commands are replaced by local stand-ins, and the
list of replacements is printed first. Runbook commands and HTTP calls are recorded by the
sample upstream, never run.

Time runs at --speed times the wall clock (default: the whole plan in about a minute), or
fits --duration. It stands still while the engine carries out an action, so every action
runs on time, and runs at wall-clock speed while the runbook runs. After the shutdown and
two weeks of stragglers, quiet stretches are skipped. Ctrl-C stops cleanly and still writes
the report of what was played.

演练：在临时数据上按压缩时间完整播放一份计划（网关、模拟用户、本地通知接收端、反馈、运行手册），最后生成报告；不会触碰任何真实端点。`,
		Example: `  sunset rehearse examples/api-v2.yaml
  sunset rehearse examples/api-v2.yaml --duration 30s --out rehearsal.html
  sunset rehearse sunset.yaml --speed 200000 --format md --out rehearsal.md --lang zh`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.rehearse(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.speed, "speed", 0, "how many times faster than the wall clock the plan plays (default: fit --duration)")
	f.DurationVar(&o.duration, "duration", rehearsalTarget, "about how long the rehearsal takes, when --speed is not given")
	f.StringVarP(&o.out, "out", "o", "report.html", "write the report to this file")
	f.StringVar(&o.format, "format", "html", "report format: html, md or json")
	f.StringVar(&o.lang, "lang", "en", "language of the report: en or zh")
	f.BoolVar(&o.keep, "keep", false, "keep the scratch directory (database, sinks' data, backups) and print where it is")
	return cmd
}

// rehearsal is one run of `sunset rehearse`: its stand-ins and the real parts wired to them.
type rehearsal struct {
	m       *Main
	out     io.Writer // live progress (stderr)
	name    string
	plan    *plan.Plan
	loc     *time.Location
	clock   *sunset.FixedClock
	speed   float64
	eng     *engine.Engine
	st      *store.DB
	data    *dataServices
	sinks   *rehearse.Sinks
	up      *rehearse.Upstream
	fleet   *rehearse.Fleet
	public  string
	phase   *phaseLabel
	logger  *slog.Logger
	scratch string
	display string // the plan's path as the user gave it
	lang    string // of the progress and the report: en or zh
	// replaced are the plan's endpoints the rehearsal replaced.
	replaced []rehearse.Substitution
	// signoffs are the stakeholders the rehearsal signed off for.
	signoffs []string
}

// phaseLabel is the sunset's state as the consumers' answers are counted under it. It is safe
// for concurrent use.
type phaseLabel struct {
	mu sync.Mutex
	v  string
}

// Load returns the label.
func (l *phaseLabel) Load() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v
}

// Store sets the label.
func (l *phaseLabel) Store(v string) {
	l.mu.Lock()
	l.v = v
	l.mu.Unlock()
}

func (m *Main) rehearse(ctx context.Context, path string, o rehearseOptions) error {
	switch o.format {
	case "html", "md", "json":
	default:
		return &exitError{code: 2, msg: fmt.Sprintf("--format %q: use html, md or json", o.format)}
	}
	if o.lang != "en" && o.lang != "zh" {
		return &exitError{code: 2, msg: fmt.Sprintf("--lang %q: use en or zh", o.lang)}
	}
	if o.speed < 0 || (o.speed == 0 && o.duration <= 0) {
		return &exitError{code: 2, msg: "--speed must be positive, or --duration longer than zero"}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail("%s: %v", path, err)
	}
	raw, err := os.ReadFile(abs)
	if err != nil {
		return fail("read the plan: %v", err)
	}
	p, problems := plan.Parse(path, raw)
	problems = append(problems, p.CheckReferences(plan.LocalFiles(filepath.Dir(abs)))...)
	if err := problems.Err(); err != nil {
		return fail("%s is not a valid plan; nothing was rehearsed:\n%v", path, err)
	}
	tl, err := p.Compile()
	if err != nil || len(tl.Actions) == 0 {
		return fail("%s: the plan has no timeline to rehearse: %v", path, err)
	}
	scratch, err := os.MkdirTemp("", "sunset-rehearsal-")
	if err != nil {
		return fail("scratch directory: %v", err)
	}
	r := &rehearsal{m: m, out: m.Stderr, name: p.Service.Name, plan: p, loc: tl.Location, scratch: scratch, up: &rehearse.Upstream{}, phase: &phaseLabel{}, display: path, lang: o.lang,
		logger: slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if o.keep {
		defer r.printf("kept", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}
	return r.run(ctx, abs, raw, tl, o)
}

// run sets the stage up, plays the plan and writes the report.
func (r *rehearsal) run(ctx context.Context, file string, raw []byte, tl *plan.Timeline, o rehearseOptions) error {
	secret := "rehearsal-" + fmt.Sprint(time.Now().UnixNano())
	// The sample upstream, the sinks and the web server listen first: the plan is rewritten
	// to point at them.
	upLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail("sample upstream: %v", err)
	}
	upSrv := &http.Server{Handler: r.up, ReadHeaderTimeout: 10 * time.Second}
	go upSrv.Serve(upLn)
	defer upSrv.Close()
	upURL := "http://" + upLn.Addr().String()
	sinks, err := rehearse.StartSinks(secret)
	if err != nil {
		return fail("local sinks: %v", err)
	}
	defer sinks.Close()
	r.sinks = sinks
	webLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail("web server: %v", err)
	}
	r.public = "http://" + webLn.Addr().String()
	iso, err := rehearse.Isolate(raw, rehearse.Local{Upstream: upURL, SMTP: sinks.SMTP, Hooks: sinks.Hooks, PublicURL: r.public, Scratch: r.scratch})
	if err != nil {
		webLn.Close()
		return fail("%v", err)
	}
	if err := createScratchSources(ctx, iso.Sources); err != nil {
		webLn.Close()
		return fail("scratch data: %v", err)
	}

	start := tl.Actions[0].At.Add(-24 * time.Hour)
	end, span := rehearsalSpan(tl, start)
	r.speed = o.speed
	if r.speed == 0 {
		r.speed = float64(span) / float64(o.duration)
	}
	r.clock = sunset.NewFixedClock(start)

	sys, err := assemble(ctx, r.systemConfig(secret, upURL, sinks.Hooks))
	if err != nil {
		webLn.Close()
		return err
	}
	defer sys.Stop()
	r.st, r.eng, r.data = sys.Store, sys.Engine, sys.Data

	// The plan is applied and signed off before the parts start, so that the gateway enforces
	// it from its first request.
	if err := r.applyAndSignOff(ctx, file, iso.YAML); err != nil {
		webLn.Close()
		return err
	}

	// Everything but the web server stops when the rehearsal ends or Ctrl-C cancels ctx; the
	// report is then written through the web server, with a context of its own.
	playCtx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	if err := sys.Start(playCtx, webLn); err != nil {
		webLn.Close()
		return err
	}
	gateway := "http://" + sys.GatewayAddr

	if err := r.newFleet(ctx, gateway, upURL); err != nil {
		return err
	}

	r.replaced = iso.Substitutions
	r.printStage(r.display, iso, gateway, start, end)
	r.fleet.Run(playCtx)
	r.warmUp(playCtx)
	played, playErr := r.play(playCtx, end)
	stopPlay()
	r.fleet.Wait()
	// Stopping the gateway flushes its last usage counts; the report needs them.
	sys.StopGateway()
	r.printSummary(played)

	// The report of what was played, interrupted or not.
	if err := r.writeReport(ctx, played, o); err != nil {
		return err
	}
	r.printf("written", o.out)
	if playErr != nil {
		return playErr
	}
	// A runbook that did not finish is what a rehearsal exists to find: say so in the exit
	// status too, so that a rehearsal in CI fails.
	if played.runbook != "" && played.runbook != string(runbook.StateDone) {
		return fail(r.msg("runbookEnded"), played.runbook)
	}
	return nil
}

// newFleet sets up the synthetic consumers (the plan's contacts) that call the gateway, or the
// alternative behind the sample upstream once they migrate, starting from the scheduled phase.
func (r *rehearsal) newFleet(ctx context.Context, gateway, upURL string) error {
	consumers, err := rehearsalConsumers(ctx, r.st, r.plan)
	if err != nil {
		return fail("consumers: %v", err)
	}
	r.phase.Store(string(engine.StateScheduled))
	r.fleet = &rehearse.Fleet{
		Consumers: consumers, Gateway: gateway, Alternative: upURL + rehearse.AlternativePrefix,
		Identify: r.plan.Consumers.Identify, Calls: rehearse.Calls(r.plan),
		Clock: r.clock, Phase: r.phase.Load, Feedback: r.postFeedback,
	}
	return nil
}

// systemConfig is the system serve runs, set up for a rehearsal: a scratch database, the
// rehearsal's own secrets and local sinks, and looking for work often since a minute is months.
func (r *rehearsal) systemConfig(secret, upURL, hooks string) systemConfig {
	// The rehearsal's environment: its own secrets, and nothing of the real one's.
	getenv := func(k string) string {
		switch k {
		case rehearse.SecretVar, "SUNSET_BACKUP_KEY", "SUNSET_EXPORT_KEY":
			return secret
		case rehearse.ChatVar:
			return hooks + "/chat/room"
		}
		return ""
	}
	// The gateway step switches the rehearsal's gateway for real (serve's phase switch); the
	// drain step reads what reaches the sample upstream, since the gateways' counters arrive a
	// flush at a time and a rehearsal's minute is weeks.
	return systemConfig{
		DB: "sqlite:" + filepath.Join(r.scratch, "sunset.db"), Runtime: sunset.Runtime{Clock: r.clock, Logger: r.logger}, Getenv: getenv,
		// The rehearsal's channels are its own sinks on this machine: nobody elsewhere gets a
		// message, so its loopback links are fine.
		PublicURL: r.public, AllowLoopbackLinks: true,
		EnginePoll: 20 * time.Millisecond, GuardrailEvery: 200 * time.Millisecond,
		RunbookEvery: 50 * time.Millisecond, RunbookPoll: 50 * time.Millisecond,
		NoticePoll: 50 * time.Millisecond,
		// A claim is timed on the simulated clock: at 100 000× two real minutes are months.
		NoticeLease: 365 * 24 * time.Hour,
		Traffic:     rehearsalTraffic{up: r.up},
		// Usage reaches the store often, so that laggards (the audience of the last notices and
		// brownouts) are known while the plan plays.
		Gateway: &gatewayConfig{Upstream: upURL, Listen: "127.0.0.1:0", Service: r.name, FlushEvery: 250 * time.Millisecond},
	}
}

// applyAndSignOff applies the isolated plan (the same bundle `sunset apply` sends: the plan
// and its files, relative to its folder) and signs it off for every stakeholder.
func (r *rehearsal) applyAndSignOff(ctx context.Context, file string, yaml []byte) error {
	if _, err := r.eng.ApplyBundle(ctx, file, yaml, plan.LocalFiles(filepath.Dir(file)), "sunset rehearse"); err != nil {
		return fail("apply the rehearsal plan: %v", err)
	}
	for _, sh := range r.plan.Stakeholders {
		r.signoffs = append(r.signoffs, sh.Name)
		if _, err := r.eng.Signoff(ctx, r.name, sh.Name, "rehearsal stand-in for "+sh.Name); err != nil {
			return fail("sign off for %s: %v", sh.Name, err)
		}
	}
	return nil
}

// writeReport writes the report of what was played to o.out, through the web server, with a
// context of its own so that an interrupted rehearsal still gets one. The report says it comes
// from a rehearsal, in its lessons learned, with what the play found.
func (r *rehearsal) writeReport(ctx context.Context, played playStats, o rehearseOptions) error {
	repCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	cl := &client.Client{BaseURL: r.public, HTTP: &http.Client{Timeout: 60 * time.Second}, Actor: "sunset rehearse"}
	if _, err := cl.PutLessons(repCtx, r.name, r.lessons(played)); err != nil {
		return fail("write the rehearsal's findings: %v", err)
	}
	doc, err := cl.Report(repCtx, r.name, client.ReportRequest{Format: o.format, Lang: o.lang})
	if err != nil {
		return fail("write the report: %v", err)
	}
	return writeFileAtomic(o.out, doc)
}

// rehearsalSpan returns when a rehearsal stops (an hour after the last action, and not before
// two weeks of stragglers after the shutdown) and how much simulated time it plays: quiet
// stretches after the straggler window are skipped, about a day per action left.
func rehearsalSpan(tl *plan.Timeline, start time.Time) (end time.Time, played time.Duration) {
	last := tl.Actions[len(tl.Actions)-1].At
	quietFrom := last
	for _, a := range tl.Actions {
		if a.Kind == plan.KindMilestone && a.Name == plan.Shutdown {
			quietFrom = a.At.Add(rehearsalStragglerWindow)
		}
	}
	end = last.Add(time.Hour)
	if quietFrom.After(last) {
		end = quietFrom.Add(time.Hour)
	}
	stop := end
	if quietFrom.Before(stop) {
		stop = quietFrom
	}
	played = stop.Sub(start)
	for _, a := range tl.Actions {
		if a.At.After(quietFrom) {
			played += 24 * time.Hour / 4 // skipped to a day before; a few actions share a day
		}
	}
	return end, played
}

// warmUp lets every consumer call a few times before the clock moves, so that the usage before
// the announcement (the report's starting point) is counted however fast the plan then plays.
func (r *rehearsal) warmUp(ctx context.Context) {
	want := 3 * len(r.fleet.Consumers)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		_, counts := r.fleet.Answers()
		n := 0
		for _, a := range counts {
			n += a.Total()
		}
		if n >= want {
			return
		}
		time.Sleep(rehearsalTick)
	}
}
