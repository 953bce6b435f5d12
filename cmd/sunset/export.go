package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/client"
)

// exportFlags are the flags every export subcommand shares.
type exportFlags struct {
	client clientFlags
	as     string
	json   bool
}

func (m *Main) exportCommand() *cobra.Command {
	o := &exportFlags{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Give every user their data: per-user exports, download links, the check before deletion",
		Long: `Export makes a data takeout for every user of a sunset: the server fetches each user's
data (data.export.per_user: an HTTP URL with {id}, or an SQL query against a backed-up
database), packages it as a zip (data.json, data.csv, README in the user's language) and
keeps it where the backups go. Users are read one by one from consumers.contacts (or the
recipients of notices); the job saves its place after every batch and resumes there.

Every export command is a client of the running server (--server, default $SUNSET_SERVER,
else http://127.0.0.1:8080; --token or $SUNSET_TOKEN when it demands credentials); the
server holds the keys: data.export.key (default env:SUNSET_EXPORT_KEY) signs the download
links and SUNSET_BACKUP_KEY the archive of kept exports.

Download links name one user and expire at data.export.until (default delete_data); the
server answers them at /exports/NAME/TOKEN and records downloads.

Before delete_data, every export must be downloaded or kept in a backup (export keep);
export check says whether that holds. The deletion itself (data.retention.delete) needs
approvals (export approve-delete, role approver) and never runs under a legal hold.

导出：服务器为每位用户打包其数据并生成下载链接；删除数据前须每份导出都已下载或存入备份，并经批准。`,
		Example: `  export SUNSET_SERVER=http://127.0.0.1:8080
  sunset export run orders-api-v1
  sunset export status orders-api-v1
  sunset export link orders-api-v1 acme-prod
  sunset export keep orders-api-v1
  sunset export check orders-api-v1
  sunset export approve-delete orders-api-v1 --as li.wei
  sunset export delete orders-api-v1 --as li.wei`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.client.server, "server", "", "Sunset server URL (default $SUNSET_SERVER or http://127.0.0.1:8080)")
	pf.StringVar(&o.client.token, "token", "", "API token for a server with authentication (default $SUNSET_TOKEN)")
	pf.StringVar(&o.as, "as", "", "who is acting (recorded in events; with a token, the token's name is)")
	pf.BoolVar(&o.json, "json", false, "print JSON")
	cmd.AddCommand(m.exportRunCommand(o), m.exportStatusCommand(o), m.exportCheckCommand(o), m.exportKeepCommand(o),
		m.exportLinkCommand(o), m.exportApproveDeleteCommand(o), m.exportDeleteCommand(o))
	return cmd
}

func (m *Main) exportRunCommand(o *exportFlags) *cobra.Command {
	var batch, workers int
	var retry bool
	cmd := &cobra.Command{
		Use: "run NAME",
		Example: `  sunset export run orders-api-v1
  sunset export run orders-api-v1 --workers 32 --server http://sunset.internal:8080
  sunset export run orders-api-v1 --retry-failed`,
		Short: "Export every user's data on the server, resuming where the last run stopped",
		Long: `Run asks the running server to run the export job of a sunset (role operator) and
follows it, printing progress on stderr until the job ends. If this command is stopped,
the server's run goes on; run it again to follow it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			return exportRunRemote(cmd, cl, args[0], client.ExportRunRequest{Batch: batch, Workers: workers, RetryFailed: retry})
		},
	}
	cmd.Flags().IntVar(&batch, "batch", 200, "users handled between two saves of the job")
	cmd.Flags().IntVar(&workers, "workers", 8, "users fetched at once")
	cmd.Flags().BoolVar(&retry, "retry-failed", false, "export again the users whose export failed")
	return cmd
}

func (m *Main) exportStatusCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use: "status NAME",
		Example: `  sunset export status orders-api-v1
  sunset export status orders-api-v1 --json`,
		Short: "Show the export job and how many exports were downloaded, kept, migrated",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			st, err := cl.ExportStatus(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			w := cmd.OutOrStdout()
			if o.json {
				return writeJSON(w, st)
			}
			if st.Job == nil {
				fmt.Fprintf(w, "No export job for %s yet: sunset export run %s\n", args[0], args[0])
			} else {
				j := st.Job
				fmt.Fprintf(w, "Export job of %s: %s (source %s), %d users handled, updated %s\n", args[0], j.State, j.Source, j.Position, j.Updated.Format(time.RFC3339))
			}
			if st.Running {
				fmt.Fprintf(w, "  the server is running it now\n")
			}
			if st.RunError != "" {
				fmt.Fprintf(w, "  the server's last run stopped: %s (sunset export run %s resumes it)\n", st.RunError, args[0])
			}
			printCounts(w, st.Counts)
			return nil
		},
	}
}

func printCounts(w io.Writer, c export.Counts) {
	fmt.Fprintf(w, "  users %d: done %d, failed %d; downloaded %d, kept in a backup %d, outstanding %d; migrated %d, migration failed %d\n",
		c.Users, c.Done, c.Failed, c.Downloaded, c.Kept, c.Outstanding, c.Migrated, c.MigrationFailed)
}

func (m *Main) exportCheckCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "check NAME",
		Example: `  sunset export check orders-api-v1 && echo "ready for delete_data"`,
		Short:   "Check that every export was downloaded or is kept in a backup (exit 1 if not)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			rep, err := cl.ExportCheck(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			w := cmd.OutOrStdout()
			if o.json {
				_ = writeJSON(w, rep)
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
		},
	}
}

func (m *Main) exportKeepCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "keep NAME",
		Example: `  sunset export keep orders-api-v1   # the server signs the archive with its SUNSET_BACKUP_KEY`,
		Short:   "Archive every export not downloaded into a verified backup, so deletion may proceed",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			k, err := cl.KeepExports(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			if o.json {
				return writeJSON(cmd.OutOrStdout(), k)
			}
			if k.Kept == 0 && k.Archive == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "Nothing to keep: every export was downloaded or is kept already.")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Kept %d exports in archive %s (verified).\n", k.Kept, k.Archive)
			return nil
		},
	}
}

func (m *Main) exportLinkCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "link NAME USER",
		Example: `  sunset export link orders-api-v1 acme-prod`,
		Short:   "Print a user's download link (role operator)",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			l, err := cl.ExportLink(cmd.Context(), args[0], args[1])
			if err != nil {
				return clientError(err)
			}
			if o.json {
				return writeJSON(cmd.OutOrStdout(), l)
			}
			fmt.Fprintln(cmd.OutOrStdout(), l.URL)
			return nil
		},
	}
}

func (m *Main) exportApproveDeleteCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "approve-delete NAME --as PERSON",
		Example: `  sunset export approve-delete orders-api-v1 --as li.wei`,
		Short:   "Approve the deletion of the service's data at delete_data (role approver; an Event)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.as == "" {
				return &exitError{code: 2, msg: "say who approves: --as NAME"}
			}
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			a, err := cl.ApproveDelete(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			if o.json {
				return writeJSON(cmd.OutOrStdout(), a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s approved the deletion of %s's data (%d of %d approvals: %s).\n",
				o.as, args[0], len(a.ApprovedBy), a.Needed, strings.Join(a.ApprovedBy, ", "))
			return nil
		},
	}
}

func (m *Main) exportDeleteCommand(o *exportFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME --as PERSON",
		Example: `  sunset export delete orders-api-v1 --as li.wei`,
		Short:   "Delete the service's data now, if delete_data has passed and the retention rules allow it",
		Long: `Delete asks the server to perform data.retention.delete when the delete_data action has
run but could not delete (no approval yet, exports outstanding). The server checks the
same rules: approvals, no legal hold, exports complete, a backup archive of every source;
the Event data.deleted lists what was deleted and where the backups are.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			d, err := cl.DeleteData(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			if o.json {
				return writeJSON(cmd.OutOrStdout(), d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s; backups:\n", d.What)
			for _, b := range d.Backups {
				fmt.Fprintf(cmd.OutOrStdout(), "  %s: archive %s at %s (%s)\n", b.Name, b.Archive, b.Location, b.Created.Format(time.RFC3339))
			}
			return nil
		},
	}
}
