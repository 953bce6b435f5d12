package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sunsetops/sunset/backup"
)

// backupFlags are the flags every backup subcommand shares.
type backupFlags struct {
	key             string
	at              string
	scratchPostgres string
	json            bool
}

func (m *Main) backupCommand() *cobra.Command {
	o := &backupFlags{}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Create, list, verify and restore signed archives of a service's data",
		Long: `Backup keeps the data of a retiring service. An archive is tar + zstd with a signed
manifest (every entry's size and SHA-256, the source, the tool version, the instant);
verify re-reads and re-hashes everything, then restores into a scratch place and checks
it (SQLite integrity_check and row counts; pg_restore into a scratch database).

The manifest is signed with HMAC-SHA256; the key comes from --key (env:NAME or
file:PATH, default env:SUNSET_BACKUP_KEY, at least 16 bytes).`,
		Example: `  export SUNSET_BACKUP_KEY=$(head -c 32 /dev/urandom | base64)
  sunset backup create --source sqlite:/var/lib/orders/orders.db --to /var/backups/orders --name main-db
  sunset backup create --source dir:/srv/uploads --to file:///var/backups/orders
  sunset backup create --source postgres://backup@db:5432/orders --to /var/backups/orders
  sunset backup list --at /var/backups/orders
  sunset backup verify /var/backups/orders/main-db-20270315T020000Z-1a2b3c.tar.zst
  sunset backup restore main-db-20270315T020000Z-1a2b3c --at /var/backups/orders --to /tmp/orders.db`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.key, "key", "env:SUNSET_BACKUP_KEY", "manifest signing key: env:NAME or file:PATH")
	pf.StringVar(&o.at, "at", "", "where archives named by id are kept (a directory, file:// or s3:// URL)")
	pf.StringVar(&o.scratchPostgres, "scratch-postgres", "", "PostgreSQL DSN where verify may create and drop a scratch database")
	pf.BoolVar(&o.json, "json", false, "print JSON")
	cmd.AddCommand(m.backupCreateCommand(o), m.backupListCommand(o), m.backupVerifyCommand(o), m.backupRestoreCommand(o))
	return cmd
}

func (m *Main) backupKey(o *backupFlags) (backup.Key, error) {
	return backup.LoadKey(o.key, m.Getenv)
}

func (m *Main) backupCreateCommand(o *backupFlags) *cobra.Command {
	var source, to, name string
	var verify bool
	cmd := &cobra.Command{
		Use:   "create --source KIND:WHERE --to DEST",
		Short: "Take a consistent copy of a source and archive it",
		Long: `Create takes a consistent copy of the source and writes it to DEST as ID.tar.zst with its
signed manifest ID.manifest.json, then prints the archive's id and location.

DEST is one of:
  ./backups, /var/backups            a local directory (created when missing)
  file:///var/backups                the same, as a URL
  s3://BUCKET/PREFIX?region=REGION   AWS S3; PREFIX is a folder in the bucket
  s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:9000&region=us-east-1
                                     an S3-compatible store (MinIO, Ceph, …), path-style

S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws, or the
instance role (anonymous=true sends none). The printed location keeps the query, so it
can be given to verify and restore as it is; list, verify and restore take the same
DEST with --at.`,
		Example: `  sunset backup create --source sqlite:orders.db --to ./backups --name main-db
  sunset backup create --source dir:/srv/uploads --to file:///var/backups --verify
  sunset backup create --source sqlite:orders.db --to "s3://backups/orders?endpoint=http://127.0.0.1:9000&region=us-east-1"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			key, err := m.backupKey(o)
			if err != nil {
				return err
			}
			src, err := backup.ParseSource(source)
			if err != nil {
				return &exitError{code: 2, msg: "--source: " + err.Error()}
			}
			dest, err := backup.OpenDest(ctx, to)
			if err != nil {
				return err
			}
			defer dest.Close()
			clock, err := m.clock()
			if err != nil {
				return err
			}
			a, err := backup.Create(ctx, backup.Options{Name: name, Source: src, Dest: dest, Key: key,
				Tool: "sunset " + version, Now: clock.Now, Progress: m.Stderr})
			if err != nil {
				return err
			}
			if verify {
				rep, err := backup.Verify(ctx, dest, a.ID, backup.VerifyOptions{Key: key, Progress: m.Stderr, PostgresScratch: o.scratchPostgres})
				if err != nil {
					return err
				}
				if err := rep.Err(); err != nil {
					return err
				}
			}
			if o.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n  location: %s\n  entries:  %d (%s → %d bytes compressed)\n  sha256:   %s\n",
				a.ID, a.Location, len(a.Manifest.Entries), backup.FormatSize(a.Manifest.Bytes), a.Sum.Size, a.Sum.SHA256)
			if verify {
				fmt.Fprintln(cmd.OutOrStdout(), "  verified: yes (re-read, re-hashed, restored to a scratch place)")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "dir:PATH, sqlite:PATH, postgres:DSN or http:URL")
	cmd.Flags().StringVar(&to, "to", "", "destination: a directory, file:///path or s3://BUCKET/PREFIX[?endpoint=URL&region=R]")
	cmd.Flags().StringVar(&name, "name", "", "name of the backup (default: from the source)")
	cmd.Flags().BoolVar(&verify, "verify", false, "verify the archive right after creating it")
	_ = cmd.MarkFlagRequired("source")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func (m *Main) backupListCommand(o *backupFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "list --at DEST",
		Short:   "List the archives kept at a destination, newest first",
		Example: `  sunset backup list --at /var/backups/orders`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.at == "" {
				return &exitError{code: 2, msg: "backup list needs --at DEST"}
			}
			dest, err := backup.OpenDest(cmd.Context(), o.at)
			if err != nil {
				return err
			}
			defer dest.Close()
			list, err := dest.List(cmd.Context())
			if err != nil {
				return err
			}
			if o.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tCREATED\tENTRIES\tDATA\tARCHIVE")
			for _, s := range list {
				if s.Problem != "" {
					fmt.Fprintf(tw, "%s\t?\t\t\t\t%s\n", s.ID, s.Problem)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Kind, s.Created.Format(time.RFC3339), s.Entries, backup.FormatSize(s.Bytes), backup.FormatSize(s.Archive))
			}
			return tw.Flush()
		},
	}
}

func (m *Main) backupVerifyCommand(o *backupFlags) *cobra.Command {
	return &cobra.Command{
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
	cmd.Flags().StringVar(&to, "to", "", "target: a new directory, a new SQLite file path, or a PostgreSQL DSN")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
