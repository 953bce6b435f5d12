package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/notify/channel"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/startstop"
)

// ChannelFactory builds the Channel of endpoint ("email", "webhook:crm", "chat:ops",
// "mastodon") as plan p configures it (channel.Factory; notify/channels builds one). The worker
// caches the result per plan revision.
type ChannelFactory = channel.Factory

// Worker sends the outbox's due deliveries. Set its fields, then Start it (or call RunOnce).
type Worker struct {
	Outbox   Outbox
	Channels ChannelFactory
	// Clock and Logger make the worker's sunset.Runtime: the clock decides what is due and
	// stamps outcomes (default: the wall clock); the logger receives its lines (default: none).
	Clock  sunset.Clock
	Logger *slog.Logger
	// PublicURL is where Sunset's public pages are served, for the links in messages.
	PublicURL string
	// AllowLoopbackLinks sends messages whose links point at a loopback address (PublicURL empty
	// or on 127.0.0.1) to recipients elsewhere too; without it they are held (StatusHeld) until
	// a worker with a public PublicURL starts.
	AllowLoopbackLinks bool
	// UnsubscribeKey signs the one-click unsubscribe links (the same key the web server checks
	// them with); without it messages carry no unsubscribe link.
	UnsubscribeKey []byte
	Policy         Policy
	// Batch is how many deliveries one claim takes (default 256); Concurrency how many sends
	// run at once (default 32); Lease how long a claim lasts before another worker may take the
	// delivery over (default 2m); Poll how often an idle worker looks again (default 1s).
	Batch       int
	Concurrency int
	Lease       time.Duration
	Poll        time.Duration
	// SendTimeout bounds one send. Default 30s.
	SendTimeout time.Duration

	once sync.Once
	// rt is Clock and Logger with their defaults, set by init.
	rt       sunset.Runtime
	mu       sync.Mutex
	plans    map[string]*plan.Plan // by plan hash
	chans    map[string]Channel    // by plan hash + endpoint
	renderer Renderer
	breakers *breakers
	limits   map[string]*limiter
	rnd      *rand.Rand
	rndMu    sync.Mutex

	life startstop.Loop
	// released is set once the held deliveries were released (or found to stay held).
	released bool
	// ExportURL gives each recipient their signed data-export link; nil means none.
	ExportURL func(sunset, userID string) string
	// Observe is told the outcome of every send, for metrics; nil means nobody listens. It
	// must be quick and safe for concurrent use.
	Observe func(Outcome)
}

// Outcome is the result of one send, as Worker.Observe receives it.
type Outcome struct {
	// Channel is the endpoint ("email", "webhook:crm").
	Channel string
	// Result is OutcomeDelivered, OutcomeRetrying (a transient failure, tried again later) or
	// OutcomeFailed (given up, or a permanent refusal).
	Result string
	// Lag is how long after its delivery was queued (the notice's fan-out) the channel accepted
	// the message; zero unless delivered.
	Lag time.Duration
}

// Outcome results.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeFailed    = "failed"
)

// Breakers returns the circuit breaker of every endpoint this worker has sent to.
func (w *Worker) Breakers() []BreakerState {
	w.init()
	return w.breakers.snapshot()
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.rt = sunset.Runtime{Clock: w.Clock, Logger: w.Logger}
		w.Policy = w.Policy.withDefaults()
		if w.Batch <= 0 {
			w.Batch = 256
		}
		if w.Concurrency <= 0 {
			w.Concurrency = 32
		}
		if w.Lease <= 0 {
			w.Lease = 2 * time.Minute
		}
		if w.Poll <= 0 {
			w.Poll = time.Second
		}
		if w.SendTimeout <= 0 {
			w.SendTimeout = 30 * time.Second
		}
		w.plans = map[string]*plan.Plan{}
		w.chans = map[string]Channel{}
		w.breakers = &breakers{threshold: w.Policy.BreakerThreshold, cooldown: w.Policy.BreakerCooldown, state: map[string]*breaker{}}
		w.limits = map[string]*limiter{}
		for kind, r := range w.Policy.Rates {
			if r > 0 {
				w.limits[kind] = &limiter{rate: r}
			}
		}
		w.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	})
}

// Start runs the worker until ctx ends or Stop is called. Starting twice is an error.
func (w *Worker) Start(ctx context.Context) error {
	w.init()
	if err := w.releaseHeld(ctx); err != nil {
		return err
	}
	if err := w.life.Start(ctx, w.loop); err != nil {
		return fmt.Errorf("notify: worker %w", err)
	}
	return nil
}

// Stop stops the worker and waits for the batch in hand to be recorded. It is safe to call
// before Start and more than once.
func (w *Worker) Stop() { w.life.Stop() }

func (w *Worker) loop(ctx context.Context) {
	watched := make(chan struct{})
	go func() { defer close(watched); w.watchLoop(ctx) }()
	defer func() { <-watched }()
	if _, err := w.pump(ctx, false); err != nil && ctx.Err() == nil {
		w.rt.Log().Error("notify: delivery stopped", "err", err)
	}
}

// RunOnce claims one batch of due deliveries, sends them and records the outcomes, one step after
// the other. It returns how many it claimed. Start and Drain stream instead (pump).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.init()
	if err := w.releaseHeld(ctx); err != nil {
		return 0, err
	}
	now := w.rt.Now()
	ds, err := w.Outbox.Claim(ctx, now, w.Batch, w.Lease)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	// Sends finish even when ctx ends, so that what went out is recorded.
	sendCtx := context.WithoutCancel(ctx)
	sem := make(chan struct{}, w.Concurrency)
	var wg sync.WaitGroup
	for i := range ds {
		sem <- struct{}{}
		wg.Add(1)
		go func(d *Delivery) {
			defer func() { <-sem; wg.Done() }()
			w.deliver(sendCtx, d)
		}(&ds[i])
	}
	wg.Wait()
	if err := w.Outbox.Record(sendCtx, ds, w.rt.Now()); err != nil {
		return len(ds), fmt.Errorf("notify: record outcomes: %w", err)
	}
	return len(ds), nil
}

// deliver sends one claimed delivery and sets its outcome fields.
func (w *Worker) deliver(ctx context.Context, d *Delivery) {
	now := w.rt.Now()
	if ok, until := w.breakers.allow(d.Channel, now); !ok {
		// Not an attempt: the endpoint is known to be down. Wait for the breaker, not longer.
		d.Status, d.NextAt = StatusQueued, until
		d.LastError = "circuit breaker open for " + d.Channel
		return
	}
	ch, p, err := w.channel(ctx, d)
	if err != nil {
		w.fail(d, now, false, err)
		return
	}
	if reason, held := w.holds(ch); held {
		// Not an attempt: nothing was sent. It waits for a worker whose links are public.
		d.Status, d.NextAt, d.LastError = StatusHeld, now, reason
		return
	}
	m, err := w.message(p, d)
	if err != nil {
		w.fail(d, now, false, err)
		return
	}
	if l := w.limits[d.Kind()]; l != nil {
		if err := l.wait(ctx); err != nil {
			d.Status, d.NextAt = StatusQueued, now
			return
		}
	}
	sctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	retryable, err := ch.Send(sctx, m)
	cancel()
	now = w.rt.Now()
	d.Attempts++
	reason := ""
	if err != nil {
		reason = err.Error()
	}
	w.logTransition(d.Channel, w.breakers.result(d.Channel, now, err == nil, err != nil && retryable, reason), reason)
	if err != nil {
		w.fail(d, now, retryable, err)
		w.observe(d, now)
		return
	}
	d.Status, d.DeliveredAt, d.LastError = StatusDelivered, now, ""
	w.observe(d, now)
}

// observe tells Observe the outcome of a send recorded in d.
func (w *Worker) observe(d *Delivery, now time.Time) {
	if w.Observe == nil {
		return
	}
	o := Outcome{Channel: d.Channel, Result: OutcomeFailed}
	switch d.Status {
	case StatusDelivered:
		o.Result, o.Lag = OutcomeDelivered, max(0, now.Sub(d.CreatedAt))
	case StatusQueued:
		o.Result = OutcomeRetrying
	}
	w.Observe(o)
}

// addressRE matches an email address inside an error's text.
var addressRE = regexp.MustCompile(`[^\s<>"'(),;:]+@[^\s<>"'(),;:]+\.[A-Za-z]{2,}`)

// logTransition writes one line when an endpoint's health changes — not one per message, so
// that an outage of thousands of deliveries is a handful of lines. Recipients' addresses in the
// reason (an SMTP deferral names one) are left out: contacts are personal data, kept out of logs.
func (w *Worker) logTransition(endpoint string, t transition, reason string) {
	reason = addressRE.ReplaceAllString(reason, "<address>")
	switch t {
	case failing:
		w.rt.Log().Warn("notify: channel failing; deliveries will be retried", "channel", endpoint, "err", reason)
	case opened:
		w.rt.Log().Warn("notify: circuit breaker opened; the channel's deliveries wait",
			"channel", endpoint, "failures", w.Policy.BreakerThreshold, "cooldown", w.Policy.BreakerCooldown, "err", reason)
	case recovered:
		w.rt.Log().Warn("notify: channel recovered; circuit breaker closed", "channel", endpoint)
	}
}

// releaseHeld queues again, once per worker, the deliveries an earlier worker held for their
// loopback links, when this worker's links are public (or loopback links are allowed).
func (w *Worker) releaseHeld(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.released {
		return nil
	}
	if !w.AllowLoopbackLinks && LoopbackURL(EffectivePublicURL(w.PublicURL)) {
		w.released = true
		return nil
	}
	n, err := w.Outbox.ReleaseHeld(ctx, w.rt.Now())
	if err != nil {
		return fmt.Errorf("notify: release held deliveries: %w", err)
	}
	if n > 0 {
		w.rt.Log().Info("notify: released the deliveries held for their loopback links", "deliveries", n, "public_url", EffectivePublicURL(w.PublicURL))
	}
	w.released = true
	return nil
}

// fail records a failed attempt: retried later when the error is transient and attempts remain.
func (w *Worker) fail(d *Delivery, now time.Time, retryable bool, err error) {
	d.LastError = err.Error()
	if retryable && d.Attempts < w.Policy.MaxAttempts {
		w.rndMu.Lock()
		wait := w.Policy.Backoff(d.Attempts, w.rnd)
		w.rndMu.Unlock()
		d.Status, d.NextAt = StatusQueued, now.Add(wait)
		return
	}
	if retryable {
		d.LastError = fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, d.LastError)
	}
	d.Status = StatusFailed
}

// channel returns the delivery's channel and plan, building and caching them per plan revision.
func (w *Worker) channel(ctx context.Context, d *Delivery) (Channel, *plan.Plan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.plans[d.PlanHash]
	if p == nil {
		data, err := w.Outbox.Plan(ctx, d.SunsetID)
		if err != nil {
			return nil, nil, err
		}
		var problems plan.Problems
		p, problems = plan.ParseStored(d.Sunset+".yaml", data)
		if err := problems.Err(); err != nil {
			return nil, nil, fmt.Errorf("plan of %s: %w", d.Sunset, err)
		}
		w.plans[d.PlanHash] = p
	}
	k := d.PlanHash + "\x00" + d.Channel
	ch := w.chans[k]
	if ch == nil {
		if w.Channels == nil {
			return nil, nil, errors.New("no channels configured")
		}
		var err error
		ch, err = w.Channels(p, d.Channel)
		if err != nil {
			return nil, nil, err
		}
		w.chans[k] = ch
	}
	return ch, p, nil
}

// message renders delivery d from plan p.
func (w *Worker) message(p *plan.Plan, d *Delivery) (Message, error) {
	r, err := w.renderer.Render(p, RenderRequest{
		Template: d.Template, Notice: d.Notice, Mandatory: d.Mandatory, Recipient: d.Recipient,
		PublicURL: w.PublicURL, Changes: d.Changes, Data: d.Data, UnsubscribeKey: w.UnsubscribeKey,
		ExportURL: w.ExportURL, TextOnly: d.Kind() != ChannelEmail,
	})
	if err != nil {
		return Message{}, err
	}
	return Message{
		Key: d.Key(), Sunset: d.Sunset, Notice: d.Notice, Template: d.Template, Channel: d.Channel,
		To: d.Recipient, Mandatory: d.Mandatory, Rendered: r,
		Unsubscribe: r.Links.Unsubscribe, StatusURL: r.Links.Status,
	}, nil
}
