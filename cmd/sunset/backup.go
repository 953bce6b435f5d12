package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/runbook"
)

// backupFlags are the flags of the offline backup commands (verify, restore).
type backupFlags struct {
	key             string
	at              string
	scratchPostgres string
	json            bool
}

func (m *Main) backupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Take and list a sunset's declared backups on the server; verify and restore archives",
		Long: `Backup keeps the data of a retiring service. An archive is tar + zstd with a signed
manifest (every entry's size and SHA-256, the source, the tool version, the instant);
verify re-reads and re-hashes everything, then restores into a scratch place and checks
it (SQLite integrity_check and row counts; pg_restore into a scratch database).

create and list are clients of the server (--server, default $SUNSET_SERVER, else
http://127.0.0.1:8080; --token or $SUNSET_TOKEN): the server takes the backups the plan
declares (data.backups) from their sources to their destinations, signed with its own
key ($SUNSET_BACKUP_KEY of sunset serve), because that is where the data and the access
are. They never open a database or write a file where you run them.

verify and restore work offline on an archive you can reach (a file, a directory, an
s3:// URL); the manifest key comes from --key (env:NAME or file:PATH, default
env:SUNSET_BACKUP_KEY, at least 16 bytes).`,
		Example: `  export SUNSET_SERVER=http://sunset.internal:8080
  sunset backup create orders-api-v1 --backup main-db --verify
  sunset backup list orders-api-v1
  sunset backup verify /var/backups/orders/main-db-20270315T020000Z-1a2b3c.tar.zst
  sunset backup restore main-db-20270315T020000Z-1a2b3c --at /var/backups/orders --to /tmp/orders.db`,
	}
	cmd.AddCommand(m.backupCreateCommand(), m.backupListCommand(), m.backupVerifyCommand(&backupFlags{}), m.backupRestoreCommand(&backupFlags{}))
	return cmd
}

// add adds the flags of the offline backup commands (verify, restore) to cmd.
func (o *backupFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "env:SUNSET_BACKUP_KEY", "manifest signing key: env:NAME or file:PATH")
	f.StringVar(&o.at, "at", "", "where archives named by id are kept (a directory, file:// or s3:// URL)")
	f.StringVar(&o.scratchPostgres, "scratch-postgres", "", "PostgreSQL DSN where verify may create and drop a scratch database")
	f.BoolVar(&o.json, "json", false, "print JSON")
}

func (m *Main) backupKey(o *backupFlags) (backup.Key, error) {
	return backup.LoadKey(o.key, m.Getenv)
}

func (m *Main) backupCreateCommand() *cobra.Command {
	o := &runbookFlags{}
	var req runbook.BackupRequest
	cmd := &cobra.Command{
		Use:   "create NAME [--backup BACKUP] [--verify]",
		Short: "Have the server take the sunset's declared backups now, and follow them",
		Long: `Create asks the server to take the backups the sunset's plan declares (data.backups):
--backup names one, otherwise all of them are taken in turn. The server reads each source
and writes the archive and its signed manifest to the declared destination, with its own
key; --verify restores each archive to a scratch place and checks it. Each archive is
recorded as a backup.created Event.

The command prints the progress until the backups end (--detach returns at once; follow
with sunset backup list NAME) and exits 1 when one failed.

A declared destination (data.backups[].to) is one of:
  /var/backups                       a directory on the server (created when missing)
  file:///var/backups                the same, as a URL
  s3://BUCKET/PREFIX?region=REGION   AWS S3; PREFIX is a folder in the bucket
  s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:9000&region=us-east-1
                                     an S3-compatible store (MinIO, Ceph, …), path-style
S3 credentials are the server's: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, or
the instance role.`,
		Example: `  sunset backup create orders-api-v1
  sunset backup create orders-api-v1 --backup main-db --verify
  sunset backup create orders-api-v1 --detach --server http://sunset.internal:8080`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.actingClient(&o.client, o.as)
			if err != nil {
				return err
			}
			ctx, out, name := cmd.Context(), cmd.OutOrStdout(), args[0]
			job, err := cl.StartBackup(ctx, name, req)
			if err != nil {
				return clientError(err)
			}
			if o.client.format == "json" && o.detach {
				return writeJSON(out, job)
			}
			if o.detach {
				fmt.Fprintf(out, "Backup of %s (%s) goes on in the server; follow it with: sunset backup list %s\n", name, backupNames(job), name)
				return nil
			}
			last := ""
			for job.State == runbook.BackupRunning {
				if line := backupProgress(job); line != last {
					fmt.Fprintf(cmd.ErrOrStderr(), "backup %s: %s\n", name, line)
					last = line
				}
				select {
				case <-ctx.Done():
					return fail("stopped following the backup of %s; it goes on in the server (sunset backup list %s)", name, name)
				case <-time.After(runbookPollEvery):
				}
				l, err := cl.Backups(ctx, name)
				if err != nil {
					return clientError(err)
				}
				if l.Job == nil {
					return fail("the server no longer knows the backup job of %s (did it restart?); see sunset backup list %s", name, name)
				}
				job = l.Job
			}
			if o.client.format == "json" {
				return writeJSON(out, job)
			}
			for _, b := range job.Backups {
				switch b.State {
				case runbook.BackupDone:
					verified := ""
					if b.Verified {
						verified = ", verified (re-read, re-hashed, restored to a scratch place)"
					}
					fmt.Fprintf(out, "%s: %s%s\n", b.Name, b.Archive, verified)
				default:
					fmt.Fprintf(out, "%s: %s: %s\n", b.Name, b.State, b.Error)
				}
			}
			if job.State != runbook.BackupDone {
				return fail("backup of %s %s: %s", name, job.State, job.Error)
			}
			return nil
		},
	}
	o.add(cmd, true)
	cmd.Flags().StringVar(&req.Backup, "backup", "", "the data.backups entry to take (default: every declared backup)")
	cmd.Flags().BoolVar(&req.Verify, "verify", false, "verify each archive by restoring it to a scratch place")
	cmd.ValidArgsFunction = m.completeSunsets(&o.client)
	return cmd
}

// backupNames lists the backups a job takes.
func backupNames(job *runbook.BackupJob) string {
	var names []string
	for _, b := range job.Backups {
		names = append(names, b.Name)
	}
	return strings.Join(names, ", ")
}

// backupProgress says where a backup job stands.
func backupProgress(job *runbook.BackupJob) string {
	for _, b := range job.Backups {
		if b.State == runbook.BackupRunning {
			if job.Progress != "" {
				return b.Name + ": " + job.Progress
			}
			return b.Name + ": running"
		}
	}
	return job.State
}

func (m *Main) backupListCommand() *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "list NAME",
		Short: "List the archives of a sunset's declared backups, newest first",
		Long: `List asks the server for the archives at the destinations of the sunset's declared
backups (data.backups), newest first, and for the backup job it runs or ran last.`,
		Example: `  sunset backup list orders-api-v1
  sunset backup list orders-api-v1 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := m.client(&c)
			if err != nil {
				return err
			}
			l, err := cl.Backups(cmd.Context(), args[0])
			if err != nil {
				return clientError(err)
			}
			out := cmd.OutOrStdout()
			if c.format == "json" {
				return writeJSON(out, l)
			}
			if len(l.Backups) == 0 {
				fmt.Fprintf(out, "the plan of %s declares no backups (data.backups)\n", l.Sunset)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			for _, b := range l.Backups {
				fmt.Fprintf(tw, "%s → %s: %d archives\n", b.Name, b.To, len(b.Archives))
				if b.Problem != "" {
					fmt.Fprintf(tw, "  cannot read the destination: %s\n", b.Problem)
				}
				if len(b.Archives) == 0 {
					continue
				}
				fmt.Fprintln(tw, "  ID\tKIND\tCREATED\tENTRIES\tDATA\tARCHIVE")
				for _, s := range b.Archives {
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Kind, s.Created.Format(time.RFC3339), s.Entries, backup.FormatSize(s.Bytes), backup.FormatSize(s.Archive))
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if j := l.Job; j != nil {
				fmt.Fprintf(out, "last backup job: %s, started by %s at %s", j.State, j.StartedBy, j.Started.Format(time.RFC3339))
				if j.Error != "" {
					fmt.Fprintf(out, " (%s)", j.Error)
				}
				fmt.Fprintln(out)
			}
			return nil
		},
	}
	c.add(cmd, true)
	cmd.ValidArgsFunction = m.completeSunsets(&c)
	return cmd
}

func (m *Main) backupVerifyCommand(o *backupFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify ARCHIVE",
		Short: "Re-read, re-hash and test-restore an archive; name anything damaged",
		Example: `  sunset backup verify /var/backups/orders/main-db-20270315T020000Z-1a2b3c.tar.zst
  sunset backup verify main-db-20270315T020000Z-1a2b3c --at /var/backups/orders
  sunset backup verify pg-orders-… --at ./backups --scratch-postgres postgres://postgres@127.0.0.1/postgres`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dest, id, key, err := m.openArchive(ctx, o, args[0])
			if err != nil {
				return err
			}
			defer dest.Close()
			rep, err := backup.Verify(ctx, dest, id, backup.VerifyOptions{Key: key, Progress: m.Stderr, PostgresScratch: o.scratchPostgres})
			if err != nil {
				return err
			}
			if o.json {
				_ = json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			} else if rep.Err() == nil {
				for _, c := range rep.Checks {
					fmt.Fprintln(cmd.OutOrStdout(), "ok  "+c)
				}
			}
			if err := rep.Err(); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(cmd.OutOrStdout(), "%s verified\n", id)
			}
			return nil
		},
	}
	o.add(cmd)
	return cmd
}

// openArchive resolves ARCHIVE (an id, with --at, or the archive's location) and opens where
// it is kept, with the manifest signing key; the caller closes the destination.
func (m *Main) openArchive(ctx context.Context, o *backupFlags, archive string) (*backup.Dest, string, backup.Key, error) {
	key, err := m.backupKey(o)
	if err != nil {
		return nil, "", nil, err
	}
	at, id, err := backup.ResolveArchive(archive, o.at)
	if err != nil {
		return nil, "", nil, err
	}
	dest, err := backup.OpenDest(ctx, at)
	if err != nil {
		return nil, "", nil, err
	}
	return dest, id, key, nil
}

func (m *Main) backupRestoreCommand(o *backupFlags) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "restore ARCHIVE --to PATH|DSN",
		Short: "Restore an archive: a directory, a SQLite file, or into a PostgreSQL database",
		Example: `  sunset backup restore ./backups/main-db-20270315T020000Z-1a2b3c.tar.zst --to /tmp/orders.db
  sunset backup restore uploads-… --at /var/backups --to /srv/uploads-restored
  sunset backup restore pg-orders-… --at ./backups --to postgres://postgres@127.0.0.1/orders_restored`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dest, id, key, err := m.openArchive(ctx, o, args[0])
			if err != nil {
				return err
			}
			defer dest.Close()
			rep, err := backup.Restore(ctx, dest, id, to, backup.VerifyOptions{Key: key, Progress: m.Stderr})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s (%d entries, %s, every entry's sha256 checked) to %s\n", id, rep.Entries, backup.FormatSize(rep.Bytes), to)
			return nil
		},
	}
	o.add(cmd)
	cmd.Flags().StringVar(&to, "to", "", "target: a new directory, a new SQLite file path, or a PostgreSQL DSN")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
