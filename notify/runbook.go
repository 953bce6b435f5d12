package notify

import (
	"context"
	"strconv"
	"time"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
)

// Queued is what QueueTemplate wrote.
type Queued struct {
	// Notice is the notice key of the deliveries: the plan's notice/N when a notice of the plan
	// uses the template, else runbook/TEMPLATE.
	Notice     string `json:"notice"`
	Audience   string `json:"audience"`
	Recipients int    `json:"recipients"`
	// Deliveries is how many deliveries were inserted: 0 when the notice was already queued.
	Deliveries int `json:"deliveries"`
	Suppressed int `json:"suppressed"`
}

// QueueTemplate queues template to the plan's audience for it, in tx, outside the timeline: a
// runbook's notify step (`notify: done`). When a notice of the plan uses the template (the last
// one, when several do), its audience, channels and mandatory flag are used, and so is its
// notice key, notice/N: the deliveries are the same ones its timeline action queues, so each
// recipient hears once whichever runs first, and a step run again queues nothing new. Otherwise
// the template goes to every contact (all) over every channel the plan configures, under the
// notice key runbook/TEMPLATE.
func (h *Handler) QueueTemplate(ctx context.Context, tx engine.Tx, s *engine.Sunset, p *plan.Plan, template string, now time.Time) (Queued, error) {
	q := Queued{Notice: "runbook/" + template, Audience: "all"}
	var channels []string
	mandatory := false
	for i, n := range p.Notices {
		if n.Template == template {
			q.Notice, q.Audience, channels, mandatory = "notice/"+strconv.Itoa(i), n.To, n.Channels, n.Mandatory
		}
	}
	if channels == nil {
		channels = configuredChannels(p)
	}
	f := &fanout{h: h, tx: tx, p: p, sunsetID: s.ID, sunset: s.Name, notice: q.Notice, template: template,
		mandatory: mandatory, channels: channels, now: now}
	n, err := f.run(ctx, q.Audience)
	if err != nil {
		return q, err
	}
	q.Recipients, q.Deliveries, q.Suppressed = n, f.inserted, f.suppressed
	return q, nil
}

// configuredChannels lists the delivery channels p configures.
func configuredChannels(p *plan.Plan) []string {
	var cs []string
	if p.Channels.Email != nil {
		cs = append(cs, ChannelEmail)
	}
	if len(p.Channels.Webhooks) > 0 {
		cs = append(cs, ChannelWebhook)
	}
	if len(p.Channels.Chat) > 0 {
		cs = append(cs, ChannelChat)
	}
	return cs
}
