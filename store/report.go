package store

import (
	"context"
	"errors"

	"github.com/sunsetops/sunset/notify"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/usage"
)

// ReportData fills in the stored figures of the report of the sunset named name: the gateways'
// usage counts, the notice ledger and the consumers' awareness, the latest runbook run and the
// lessons learned. An unknown sunset is ENOTFOUND.
func (db *DB) ReportData(ctx context.Context, name string, in *report.Input) error {
	l, err := db.Lessons(ctx, name)
	if err != nil {
		return err
	}
	in.Lessons = l
	counts, err := db.Usage().Counts(ctx, name)
	if err != nil {
		return err
	}
	in.UnknownConsumer = usage.OtherConsumer
	in.Usage = make([]report.Count, 0, len(counts))
	for _, c := range counts {
		in.Usage = append(in.Usage, report.Count{Feature: c.Feature, Consumer: c.Consumer, Hour: c.Hour, Count: c.Count, LastAt: c.LastAt})
	}
	ledger, err := db.Outbox().Ledger(ctx, name, 0)
	if err != nil {
		return err
	}
	// Counts come one line per notice, channel and status, ordered by notice and channel.
	for _, c := range ledger.Counts {
		n := len(in.Notices)
		if n == 0 || in.Notices[n-1].Notice != c.Notice || in.Notices[n-1].Channel != c.Channel {
			in.Notices = append(in.Notices, report.NoticeCount{Notice: c.Notice, Channel: c.Channel})
			n++
		}
		x := &in.Notices[n-1]
		switch c.Status {
		case notify.StatusQueued:
			x.Queued += c.Count
		case notify.StatusRetrying:
			x.Retrying += c.Count
		case notify.StatusHeld:
			x.Held += c.Count
		case notify.StatusSending:
			x.Sent += c.Count
		case notify.StatusDelivered:
			x.Delivered += c.Count
		case notify.StatusFailed:
			x.Failed += c.Count
		case notify.StatusSuppressed:
			x.Suppressed += c.Count
		}
	}
	if in.Awareness, err = db.reportAwareness(ctx, name); err != nil {
		return err
	}
	run, err := db.LatestRun(ctx, name)
	if errors.Is(err, runbook.ErrNoRun) {
		return nil
	}
	if err != nil {
		return err
	}
	rr := &report.RunbookRun{State: run.State}
	for _, s := range run.Steps {
		rr.Steps = append(rr.Steps, report.RunbookStep{Name: s.Name, Kind: s.Kind, Status: s.Status, Attempts: s.Attempts, Started: s.Started, Ended: s.Ended})
	}
	in.Runbook = rr
	return nil
}

// reportAwareness counts the consumers told about the sunset: those with deliveries (owners,
// stakeholders and channel broadcasts are not consumers) or an in-band record from a gateway,
// and among them those a delivery or a gateway reached.
func (db *DB) reportAwareness(ctx context.Context, name string) (report.Awareness, error) {
	var a report.Awareness
	reached := map[string]bool{}
	rows, err := db.sql.QueryContext(ctx, rebind(db.dialect, `SELECT o.recipient, MAX(CASE WHEN o.status = ? THEN 1 ELSE 0 END)
	FROM outbox o JOIN sunsets s ON s.id = o.sunset_id
	WHERE s.name = ? AND o.recipient <> ? AND o.recipient NOT LIKE 'owner:%' AND o.recipient NOT LIKE 'stakeholder:%'
	GROUP BY o.recipient`), string(notify.StatusDelivered), name, notify.Broadcast)
	if err != nil {
		return a, db.translate(err, "count the consumers told")
	}
	for rows.Next() {
		var id string
		var delivered int
		if err := rows.Scan(&id, &delivered); err != nil {
			rows.Close()
			return a, db.translate(err, "count the consumers told")
		}
		reached[id] = reached[id] || delivered == 1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return a, db.translate(err, "count the consumers told")
	}
	told, err := db.Usage().Awareness(ctx, name)
	if err != nil {
		return a, err
	}
	for _, t := range told {
		if t.Consumer != usage.OtherConsumer {
			reached[t.Consumer] = true
			a.InBand++
		}
	}
	a.Known = len(reached)
	for _, ok := range reached {
		if ok {
			a.Aware++
		}
	}
	return a, nil
}
