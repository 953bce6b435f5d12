package store

import (
	"context"
	"errors"

	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/runbook"
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
	in.UnknownConsumer = gateway.OtherConsumer
	in.Usage = make([]report.Count, 0, len(counts))
	for _, c := range counts {
		in.Usage = append(in.Usage, report.Count{Feature: c.Feature, Consumer: c.Consumer, Hour: c.Hour, Count: c.Count})
	}
	ledger, err := db.Outbox().Ledger(ctx, name, 0)
	if err != nil {
		return err
	}
	for _, x := range ledger.Lines {
		in.Notices = append(in.Notices, report.NoticeCount{Notice: x.Notice, Channel: x.Channel, Queued: x.Queued,
			Sent: x.Sent, Delivered: x.Delivered, Failed: x.Failed, Suppressed: x.Suppressed})
	}
	in.Awareness = report.Awareness{Known: ledger.ConsumersKnown, Aware: ledger.ConsumersAware, InBand: ledger.InBand}
	run, err := db.LatestRun(ctx, name)
	if errors.Is(err, runbook.ErrNoRun) {
		return nil
	}
	if err != nil {
		return err
	}
	rr := &report.RunbookRun{State: string(run.State)}
	for _, s := range run.Steps {
		rr.Steps = append(rr.Steps, report.RunbookStep{Name: s.Name, Kind: s.Kind, Status: string(s.Status), Attempts: s.Attempts, Started: s.Started, Ended: s.Ended})
	}
	in.Runbook = rr
	return nil
}
