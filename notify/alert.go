package notify

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sunsetops/sunset/plan"
)

// AlertTemplate is the built-in template of the owners' delivery alerts.
const AlertTemplate = "delivery_alert"

// alertEvery is how often a started worker looks for late notices and channels down.
const alertEvery = 30 * time.Second

// Watch alerts the owners of the sunsets whose notices are in trouble: a notice still undelivered
// over a channel LateAfter after it was queued, or a channel whose circuit breaker has been open
// for DownAfter. Each sunset's accountable owners (every owner with an email when none is
// accountable) get one delivery_alert per incident — per notice and channel when late, per
// outage of a channel when down — over another channel that works: email when the trouble is
// elsewhere, else the plan's chat rooms, else its webhooks. The alert is mandatory and queued in
// the outbox like any delivery, so it is sent once even across crashes. A started worker calls
// Watch every 30 s; it returns how many alerts it queued.
func (w *Worker) Watch(ctx context.Context) (int, error) {
	w.init()
	now := w.rt.Now()
	waiting, err := w.Outbox.Waiting(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: look for late notices: %w", err)
	}
	breakers := map[string]BreakerState{}
	for _, b := range w.breakers.snapshot() {
		breakers[b.Channel] = b
	}
	var ds []Delivery
	plans := map[int64]*plan.Plan{}
	for _, g := range waiting {
		a := &Alert{Notice: g.Notice, Channel: g.Channel, Count: g.Count, LastError: g.LastError}
		var notice string
		switch b := breakers[g.Channel]; {
		case b.Open && !b.OpenedAt.IsZero() && now.Sub(b.OpenedAt) >= w.Policy.DownAfter:
			a.Kind, a.Since, a.LastError = AlertDown, b.OpenedAt, b.LastError
			notice = "alert/down/" + g.Channel + "/" + strconv.FormatInt(b.OpenedAt.Unix(), 10)
		case now.Sub(g.Oldest) >= w.Policy.LateAfter:
			a.Kind, a.Since = AlertLate, g.Oldest
			notice = "alert/late/" + g.Notice + "/" + g.Channel
		default:
			continue
		}
		p := plans[g.SunsetID]
		if p == nil {
			data, err := w.Outbox.Plan(ctx, g.SunsetID)
			if err != nil {
				return 0, fmt.Errorf("notify: plan of %s: %w", g.Sunset, err)
			}
			var problems plan.Problems
			if p, problems = plan.ParseStored(g.Sunset+".yaml", data); problems.Err() != nil {
				return 0, fmt.Errorf("notify: plan of %s: %w", g.Sunset, problems.Err())
			}
			plans[g.SunsetID] = p
		}
		ds = append(ds, w.alertDeliveries(p, g, notice, a, breakers, now)...)
	}
	if len(ds) == 0 {
		return 0, nil
	}
	n, err := w.Outbox.EnqueueAlerts(ctx, ds)
	if err != nil {
		return 0, fmt.Errorf("notify: queue the owners' alerts: %w", err)
	}
	if n > 0 {
		w.rt.Log().Warn("notify: owners alerted to notices in trouble", "alerts", n)
	}
	return n, nil
}

// alertDeliveries addresses one alert to the sunset's owners over a working channel other than
// the one in trouble; none when the plan has no such channel or no owner to tell.
func (w *Worker) alertDeliveries(p *plan.Plan, g Waiting, notice string, a *Alert, breakers map[string]BreakerState, now time.Time) []Delivery {
	var owners []plan.Owner
	for _, o := range p.Service.Owners {
		if o.Email != "" && o.Role == "accountable" {
			owners = append(owners, o)
		}
	}
	if len(owners) == 0 {
		for _, o := range p.Service.Owners {
			if o.Email != "" {
				owners = append(owners, o)
			}
		}
	}
	works := func(endpoint string) bool { return endpoint != g.Channel && !breakers[endpoint].Open }
	base := Delivery{SunsetID: g.SunsetID, Sunset: g.Sunset, Notice: notice, Template: AlertTemplate, Mandatory: true,
		Data: Data{Alert: a}, Status: StatusQueued, NextAt: now, CreatedAt: now, UpdatedAt: now}
	var out []Delivery
	switch {
	case p.Channels.Email != nil && works(ChannelEmail) && len(owners) > 0:
		for _, o := range owners {
			d := base
			d.Channel, d.Recipient = ChannelEmail, ownerRecipient(o)
			out = append(out, d)
		}
	default:
		for _, c := range p.Channels.Chat {
			if ep := ChannelChat + ":" + c.Name; works(ep) {
				d := base
				d.Channel, d.Recipient = ep, Recipient{ID: Broadcast}
				out = append(out, d)
			}
		}
		if len(out) > 0 {
			return out
		}
		for _, h := range p.Channels.Webhooks {
			if ep := ChannelWebhook + ":" + h.Name; works(ep) {
				for _, o := range owners {
					d := base
					d.Channel, d.Recipient = ep, ownerRecipient(o)
					out = append(out, d)
				}
			}
		}
	}
	return out
}

// watchLoop runs Watch every alertEvery until ctx ends.
func (w *Worker) watchLoop(ctx context.Context) {
	t := time.NewTicker(alertEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := w.Watch(ctx); err != nil && ctx.Err() == nil {
				w.rt.Log().Error("notify: alert the owners", "err", err)
			}
		}
	}
}
