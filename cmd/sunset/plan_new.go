package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/report"
)

// planNewOptions are the flags of `sunset plan new`.
type planNewOptions struct {
	client   clientFlags
	from     string
	announce string
	out      string
	force    bool
}

func (m *Main) planNewCommand() *cobra.Command {
	var o planNewOptions
	cmd := &cobra.Command{
		Use:   "new [--from NAME] [-o FILE]",
		Short: "Start a plan: a commented starter, or a copy of a past sunset's plan with its lessons",
		Long: `New writes a plan to start from.

Without --from it writes a commented starter plan: every section with a sensible
default and a sentence on what it does, dates from next week on.

With --from NAME it asks the server (--server, default $SUNSET_SERVER, else
http://127.0.0.1:8080) to start from a past sunset's plan: the same owners,
stakeholders, channels, notices, templates, guardrails, data and runbook, with every
date moved so that the announcement is a week after the server's today (or --announce)
and the offsets between milestones are kept. The service's
name, title and description become TODO markers, which 'sunset plan validate' refuses
until they are filled in. A comment block at the top carries what the past sunset
taught: its notice period, days from announcement to zero traffic, share of consumers
migrated, pauses, feedback, stragglers and its lessons learned.
Reading the report of a past sunset that is shut down marks it evaluated, as
'sunset report' does.

新建计划：不带 --from 时生成带注释的起始计划；带 --from 时以一次过往下线的计划为蓝本，日期整体平移，并在开头附上其经验教训与关键数据。`,
		Example: `  sunset plan new -o sunset.yaml
  sunset plan new --from orders-api-v1 -o billing-v1.yaml
  sunset plan new --from orders-api-v1 --server http://sunset.internal:8080 --announce 2027-06-01 -o next.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.planNew(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.client.add(cmd, false)
	f.StringVar(&o.from, "from", "", "start from the plan of this past sunset")
	f.StringVar(&o.announce, "announce", "", "announcement date of the new plan (YYYY-MM-DD; default: a week from today)")
	f.StringVarP(&o.out, "output", "o", "", "write the plan to this file instead of standard output")
	f.BoolVar(&o.force, "force", false, "overwrite the -o file if it exists")
	return cmd
}

func (m *Main) planNew(ctx context.Context, o planNewOptions) error {
	clock, err := m.clock()
	if err != nil {
		return err
	}
	now := clock.Now()
	if o.out != "" && !o.force {
		if _, err := os.Stat(o.out); err == nil {
			return fail("%s exists; pass --force to overwrite it", o.out)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fail("%s: %v", o.out, err)
		}
	}
	// The date is checked here too, so that a typo is a usage error before any request.
	if _, err := report.AnnounceDay(o.announce, now, time.UTC); err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("--announce %q: use a date, e.g. 2027-06-01", o.announce)}
	}
	var doc []byte
	if o.from == "" {
		announce, _ := report.AnnounceDay(o.announce, now, time.UTC)
		doc = starterPlan(announce)
	} else {
		cl, err := m.client(&o.client)
		if err != nil {
			return err
		}
		if doc, err = cl.NextPlan(ctx, o.from, o.announce); err != nil {
			return clientError(err)
		}
	}
	if o.out == "" {
		_, err := m.Stdout.Write(doc)
		return err
	}
	if err := writeFileAtomic(o.out, doc); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "Wrote %s. Fill in every TODO, then: sunset plan validate %s\n", o.out, o.out)
	return nil
}
