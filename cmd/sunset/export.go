package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/engine"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/store"
	"github.com/sunsetops/sunset/web"
)

type exportFlags struct {
	db, plan, as string
	json         bool
}

func (m *Main) exportCommand() *cobra.Command {
	o := &exportFlags{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Give every user their data: per-user exports, download links, the check before deletion",
		Long: `Export makes a data takeout for every user of a sunset: it fetches each user's data
(data.export.per_user: an HTTP URL with {id}, or an SQL query against a backed-up
database), packages it as a zip (data.json, data.csv, README in the user's language) and
keeps it where the backups go. Users are read one by one from consumers.contacts (or the
recipients of notices); the job saves its place after every batch and resumes there.

Download links are signed with data.export.key (default env:SUNSET_EXPORT_KEY), name one
user, and expire at data.export.until (default delete_data). sunset serve answers them at
/exports/NAME/TOKEN and records downloads.

Before delete_data, every export must be downloaded or kept in a backup (export keep);
export check says whether that holds. The deletion itself (data.retention.delete) needs
approvals (export approve-delete) and never runs under a legal hold.`,
		Example: `  export SUNSET_EXPORT_KEY=$(head -c 32 /dev/urandom | base64)
  sunset export run orders-api-v1 --db sqlite:sunset.db
  sunset export status orders-api-v1
  sunset export link orders-api-v1 acme-prod
  sunset export keep orders-api-v1
  sunset export check orders-api-v1
  sunset export approve-delete orders-api-v1 --as li.wei
  sunset export delete orders-api-v1 --as li.wei`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.db, "db", "sqlite:sunset.db", "database holding sunsets and exports: sqlite:PATH or postgres://…")
	pf.StringVar(&o.plan, "plan", "", "read the plan from this file instead of the stored sunset")
	pf.StringVar(&o.as, "as", "", "who is acting (recorded in events)")
	pf.BoolVar(&o.json, "json", false, "print JSON")
	cmd.AddCommand(m.exportRunCommand(o), m.exportStatusCommand(o), m.exportCheckCommand(o), m.exportKeepCommand(o),
		m.exportLinkCommand(o), m.exportApproveDeleteCommand(o), m.exportDeleteCommand(o))
	return cmd
}

type exportEnv struct {
	store *store.DB
	eng   *engine.Engine
	svc   *export.Service
}

func (m *Main) openExport(ctx context.Context, o *exportFlags) (*exportEnv, error) {
	st, err := openStore(ctx, o.db, nil)
	if err != nil {
		return nil, fail("open database: %v", err)
	}
	clock, err := m.clock()
	if err != nil {
		st.Close()
		return nil, err
	}
	eng, err := engine.New(engine.Config{Store: st, Clock: clock})
	if err != nil {
		st.Close()
		return nil, err
	}
	env := &exportEnv{store: st, eng: eng}
	var fromFile *plan.Plan
	if o.plan != "" {
		p, problems := plan.ParseFile(o.plan)
		if err := problems.Err(); err != nil {
			st.Close()
			return nil, fail("%s: %v", o.plan, err)
		}
		fromFile = p
	}
	env.svc = &export.Service{Store: st, Getenv: m.Getenv, Now: clock.Now,
		Plan: func(ctx context.Context, name string) (*plan.Plan, error) {
			if fromFile != nil {
				return fromFile, nil
			}
			p, _, err := eng.Plan(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("sunset %s: %w (or give --plan FILE)", name, err)
			}
			return p, nil
		}}
	return env, nil
}

func (m *Main) exportRunCommand(o *exportFlags) *cobra.Command {
	var batch, workers int
	var retry bool
	var c clientFlags
	cmd := &cobra.Command{
		Use: "run NAME",
		Example: `  sunset export run orders-api-v1
  sunset export run orders-api-v1 --plan sunset.yaml --db postgres://sunset@db/sunset --workers 32
  sunset export run orders-api-v1 --server http://127.0.0.1:8080   # on the running server, progress here`,
		Short: "Export every user's data, resuming where the last run stopped",
		Long: `Run exports every user's data, resuming where the last run stopped. With --db (the
default) it runs here, on the database; with --server it asks the running server to run
it (role operator) and follows it, printing progress on stderr until the job ends. If
this command is stopped, the server's run goes on; run it again to follow it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if c.server != "" {
				return m.exportRunRemote(cmd, &c, args[0], web.ExportRunRequest{Batch: batch, Workers: workers, RetryFailed: retry})
			}
			return m.withExport(o, func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error {
				start := time.Now()
				job, err := env.svc.Run(ctx, args[0], export.RunOptions{Batch: batch, Workers: workers, Progress: cmd.ErrOrStderr(), RetryFailed: retry})
				if job != nil {
					fmt.Fprintf(cmd.OutOrStdout(), "Export of %s: %s, %d users handled (%d done, %d failed) in %s; links expire %s\n",
						args[0], job.State, job.Position, job.Done, job.Failed, time.Since(start).Round(time.Millisecond), job.Expires.Format(time.RFC3339))
				}
				if err != nil {
					return fail("export %s stopped: %v (run it again to resume)", args[0], err)
				}
				return nil
			})(cmd, args)
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 200, "users handled between two saves of the job")
	cmd.Flags().IntVar(&workers, "workers", 8, "users fetched at once")
	cmd.Flags().BoolVar(&retry, "retry-failed", false, "export again the users whose export failed")
	c.add(cmd, false)
	return cmd
}

func (m *Main) exportStatusCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "status NAME",
		Example: `  sunset export status orders-api-v1 --json`,
		Short:   "Show the export job and how many exports were downloaded, kept, migrated",
		Args:    cobra.ExactArgs(1),
		RunE: m.withExport(o, func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error {
			st, err := env.svc.Status(ctx, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.json {
				return json.NewEncoder(w).Encode(st)
			}
			if st.Job == nil {
				fmt.Fprintf(w, "No export job for %s yet: sunset export run %s\n", args[0], args[0])
			} else {
				j := st.Job
				fmt.Fprintf(w, "Export job of %s: %s (source %s), %d users handled, updated %s\n", args[0], j.State, j.Source, j.Position, j.Updated.Format(time.RFC3339))
			}
			printCounts(w, st.Counts)
			return nil
		}),
	}
}

func printCounts(w io.Writer, c export.Counts) {
	fmt.Fprintf(w, "  users %d: done %d, failed %d; downloaded %d, kept in a backup %d, outstanding %d; migrated %d, migration failed %d\n",
		c.Users, c.Done, c.Failed, c.Downloaded, c.Kept, c.Outstanding, c.Migrated, c.MigrationFailed)
}

func (m *Main) exportCheckCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "check NAME",
		Example: `  sunset export check orders-api-v1`,
		Short:   "Check that every export was downloaded or is kept in a backup (exit 1 if not)",
		Args:    cobra.ExactArgs(1),
		RunE: m.withExport(o, func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error {
			rep, err := env.svc.Check(ctx, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.json {
				_ = json.NewEncoder(w).Encode(rep)
			} else {
				printCounts(w, rep.Counts)
				for _, p := range rep.Problems {
					fmt.Fprintf(w, "  ✗ %s\n", p)
				}
				if len(rep.Outstanding) > 0 {
					fmt.Fprintf(w, "  not downloaded, not kept (first %d): %v\n", len(rep.Outstanding), rep.Outstanding)
				}
				if rep.OK {
					fmt.Fprintf(w, "✓ every export of %s was downloaded or is kept in a backup\n", args[0])
				}
			}
			if !rep.OK {
				return &exitError{code: 1}
			}
			return nil
		}),
	}
}

func (m *Main) exportKeepCommand(o *exportFlags) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:     "keep NAME",
		Example: `  SUNSET_BACKUP_KEY=... sunset export keep orders-api-v1`,
		Short:   "Archive every export not downloaded into a verified backup, so deletion may proceed",
		Args:    cobra.ExactArgs(1),
		RunE: m.withExport(o, func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error {
			k, err := backup.LoadKey(key, m.Getenv)
			if err != nil {
				return err
			}
			id, n, err := env.svc.Keep(ctx, args[0], k, "sunset "+version, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if n == 0 && id == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "Nothing to keep: every export was downloaded or is kept already.")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Kept %d exports in archive %s (verified).\n", n, id)
			return nil
		}),
	}
	cmd.Flags().StringVar(&key, "key", "env:SUNSET_BACKUP_KEY", "backup manifest signing key: env:NAME or file:PATH")
	return cmd
}

func (m *Main) exportLinkCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "link NAME USER",
		Example: `  sunset export link orders-api-v1 acme-prod`,
		Short:   "Print a user's download link",
		Args:    cobra.ExactArgs(2),
		RunE: m.withExport(o, func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error {
			l, err := env.svc.Links(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), l.URL(args[0], args[1]))
			return nil
		}),
	}
}

func (m *Main) exportApproveDeleteCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "approve-delete NAME --as PERSON",
		Example: `  sunset export approve-delete orders-api-v1 --as li.wei`,
		Short:   "Approve the deletion of the service's data at delete_data (an Event)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.as == "" {
				return &exitError{code: 2, msg: "say who approves: --as NAME"}
			}
			env, err := m.openExport(ctx, o)
			if err != nil {
				return err
			}
			defer env.store.Close()
			if err := env.eng.RecordEvent(ctx, args[0], "data.delete_approved", o.as, map[string]any{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s approved the deletion of %s's data.\n", o.as, args[0])
			return nil
		},
	}
}

func (m *Main) exportDeleteCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME --as PERSON",
		Example: `  sunset export delete orders-api-v1 --as li.wei`,
		Short:   "Delete the service's data now, if delete_data has passed and the retention rules allow it",
		Long: `Delete performs data.retention.delete when the delete_data action has run but could not
delete (no approval yet, exports outstanding). It checks the same rules: approvals, no legal
hold, exports complete, a backup archive of every source; the Event data.deleted lists what
was deleted and where the backups are.`,
		Args: cobra.ExactArgs(1),
		RunE: m.withExport(o, func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error {
			name := args[0]
			p, err := env.svc.Plan(ctx, name)
			if err != nil {
				return err
			}
			acts, err := env.eng.Actions(ctx, name)
			if err != nil {
				return err
			}
			passed := false
			for _, a := range acts {
				if a.Key == "data/delete" && a.Status == engine.ActionDone {
					passed = true
				}
			}
			if !passed {
				return fail("the delete_data action of %s has not run yet; nothing is deleted before it", name)
			}
			var approvers []string
			events, err := env.eng.Events(ctx, name)
			if err != nil {
				return err
			}
			for _, e := range events {
				if e.Type == "data.deleted" {
					return fail("the data of %s was already deleted (event %d)", name, e.Seq)
				}
				if e.Type == "data.delete_approved" && !slices.Contains(approvers, e.Actor) {
					approvers = append(approvers, e.Actor)
				}
			}
			var exportsErr error
			if p.Data.Export != nil {
				rep, err := env.svc.Check(ctx, name)
				if err != nil {
					return err
				}
				exportsErr = rep.Err()
			}
			data, err := performDelete(ctx, p, runbook.DecideDelete(p, approvers, exportsErr), approvers)
			if err != nil {
				return err
			}
			if data["deleted"] != true {
				return fail("not deleted: %v", data["reason"])
			}
			actor := o.as
			if actor == "" {
				actor = "cli"
			}
			if err := env.eng.RecordEvent(ctx, name, "data.deleted", actor, data); err != nil {
				return errors.Join(fmt.Errorf("deleted, but the event could not be recorded"), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %v; backups: %v\n", data["what"], data["backups"])
			return nil
		}),
	}
}

// withExport opens the export service for a command's run and closes it afterwards.
func (m *Main) withExport(o *exportFlags, fn func(ctx context.Context, cmd *cobra.Command, args []string, env *exportEnv) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		env, err := m.openExport(ctx, o)
		if err != nil {
			return err
		}
		defer env.store.Close()
		return fn(ctx, cmd, args, env)
	}
}
