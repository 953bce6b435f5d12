package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/feedback"
	"github.com/sunsetops/sunset/report"
	"github.com/sunsetops/sunset/web"
)

// planNewOptions are the flags of `sunset plan new`.
type planNewOptions struct {
	client   clientFlags
	from     string
	db       string
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

With --from NAME it starts from a past sunset's plan, read from a server (--server) or
straight from its database (--db): the same owners, stakeholders, channels, notices,
templates, guardrails, data and runbook, with every date moved so that the announcement
is next week (or --announce) and the offsets between milestones are kept. The service's
name, title and description become TODO markers, which 'sunset plan validate' refuses
until they are filled in. A comment block at the top carries what the past sunset
taught: its notice period, days from announcement to zero traffic, share of consumers
migrated, pauses, feedback, stragglers and its lessons learned.
Reading the report of a past sunset that is shut down marks it evaluated, as
'sunset report' does.

新建计划：不带 --from 时生成带注释的起始计划；带 --from 时以一次过往下线的计划为蓝本，日期整体平移，并在开头附上其经验教训与关键数据。`,
		Example: `  sunset plan new -o sunset.yaml
  sunset plan new --from orders-api-v1 -o billing-v1.yaml
  sunset plan new --from orders-api-v1 --db sqlite:sunset.db --announce 2027-06-01 -o next.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.planNew(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.client.add(cmd, false)
	f.StringVar(&o.from, "from", "", "start from the plan of this past sunset")
	f.StringVar(&o.db, "db", "", "with --from: read the past sunset from this database (sqlite:PATH or postgres://...) instead of a server")
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
	var doc []byte
	if o.from == "" {
		if o.db != "" {
			return &exitError{code: 2, msg: "--db reads a past sunset; use it with --from NAME"}
		}
		announce, err := newAnnounceDate(o.announce, now, time.UTC)
		if err != nil {
			return err
		}
		doc = starterPlan(announce)
	} else {
		past, rep, err := m.pastSunset(ctx, o)
		if err != nil {
			return err
		}
		doc, err = planFromPast(o.from, past, rep, now, o.announce)
		if err != nil {
			return err
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

// pastSunset reads a past sunset's plan and its report (JSON) from the server, or from the
// database through the same API answered in process.
func (m *Main) pastSunset(ctx context.Context, o planNewOptions) ([]byte, *report.Report, error) {
	var cl *web.Client
	if o.db != "" {
		if o.client.server != "" {
			return nil, nil, &exitError{code: 2, msg: "use --server or --db, not both"}
		}
		local, closeDB, err := m.localClient(ctx, o.db)
		if err != nil {
			return nil, nil, err
		}
		defer closeDB()
		cl = local
	} else {
		c, err := m.client(&o.client)
		if err != nil {
			return nil, nil, err
		}
		cl = c
	}
	past, err := cl.PlanYAML(ctx, o.from)
	if err != nil {
		return nil, nil, clientError(err)
	}
	raw, err := cl.Report(ctx, o.from, web.ReportRequest{Format: "json"})
	if err != nil {
		return nil, nil, clientError(err)
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, nil, fail("read the report of %s: %v", o.from, err)
	}
	return past, &rep, nil
}

// localClient answers the API from the database in process: the same handlers `sunset serve`
// runs, without a listener or an engine loop.
func (m *Main) localClient(ctx context.Context, db string) (*web.Client, func(), error) {
	logger := slog.New(slog.DiscardHandler)
	st, err := openStore(ctx, db, logger)
	if err != nil {
		return nil, nil, fail("open database: %v", err)
	}
	clock, err := m.clock()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	eng, err := engine.New(engine.Config{Store: st, Clock: clock, Logger: logger})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	srv := &web.Server{Engine: eng, Logger: logger, Ready: st.Ping, Version: version, Now: clock.Now,
		Usage: st.Usage(), Feedback: st.Feedback(), Themer: feedback.NewThemer(), Reports: st}
	cl := &web.Client{BaseURL: "http://sunset.local", HTTP: &http.Client{Transport: handlerTransport{srv.Handler()}},
		Actor: actorName(m.Getenv) + " (sunset plan new)"}
	return cl, func() { st.Close() }, nil
}

// handlerTransport answers HTTP requests with a handler, in process.
type handlerTransport struct{ h http.Handler }

// RoundTrip serves req with the handler.
func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// newAnnounceDate is the new plan's announcement day: --announce, or a week from today, at
// midnight in loc.
func newAnnounceDate(flag string, now time.Time, loc *time.Location) (time.Time, error) {
	if flag == "" {
		d := now.In(loc).AddDate(0, 0, 7)
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
	}
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(flag), loc)
	if err != nil {
		return time.Time{}, &exitError{code: 2, msg: fmt.Sprintf("--announce %q: use a date, e.g. 2027-06-01", flag)}
	}
	return t, nil
}
