package export

import (
	"github.com/sunsetops/sunset/backup/export/progress"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	sunset "github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/contacts"
	"github.com/sunsetops/sunset/plan"
)

// DefaultKeyRef is where the link key is read when the plan names none.
const DefaultKeyRef = "env:SUNSET_EXPORT_KEY"

// DefaultLinkLife is how long links last when the plan has neither data.export.until nor a
// delete_data milestone.
const DefaultLinkLife = 90 * 24 * time.Hour

// Service ties exports to the sunsets' plans: it builds links, opens downloads, runs jobs and
// checks them. Plan returns a sunset's current plan; Getenv reads env: references.
type Service struct {
	Store  Store
	Plan   func(ctx context.Context, sunset string) (*plan.Plan, error)
	Getenv func(string) string
	// Runtime tells the time (links' expiry, jobs, downloads: the sunsets' clock) and receives
	// the log lines of background runs (Runs).
	Runtime sunset.Runtime
	// HTTPClient fetches HTTP exports and posts migrations (default http.DefaultClient).
	HTTPClient *http.Client
}

func (s *Service) now() time.Time { return s.Runtime.Now().UTC() }

func (s *Service) getenv(k string) string {
	if s.Getenv != nil {
		return s.Getenv(k)
	}
	return os.Getenv(k)
}

// ErrNoExport means the sunset's plan declares no data.export.
var ErrNoExport = errors.New("export: the plan declares no data.export")

func (s *Service) plan(ctx context.Context, sunset string) (*plan.Plan, *plan.Export, error) {
	p, err := s.Plan(ctx, sunset)
	if err != nil {
		return nil, nil, err
	}
	if p.Data.Export == nil {
		return p, nil, ErrNoExport
	}
	return p, p.Data.Export, nil
}

// LinksFor returns the links of plan p: its key, public URL and expiry (data.export.until, else
// delete_data, else DefaultLinkLife from now).
func LinksFor(p *plan.Plan, getenv func(string) string, now time.Time) (*Links, error) {
	e := p.Data.Export
	if e == nil {
		return nil, ErrNoExport
	}
	ref := string(e.Key)
	if ref == "" {
		ref = DefaultKeyRef
	}
	key, err := backup.LoadKey(ref, getenv)
	if err != nil {
		return nil, fmt.Errorf("export link key (%s): %s", ref, strings.TrimPrefix(err.Error(), "signing key: "))
	}
	l := &Links{Key: key, Base: e.PublicURL, Expires: now.Add(DefaultLinkLife)}
	if tl, err := p.Compile(); err == nil {
		var until, del time.Time
		for _, a := range tl.Actions {
			switch a.Key {
			case "data/export-until":
				until = a.At
			case "milestone/" + plan.DeleteData:
				del = a.At
			}
		}
		switch {
		case !until.IsZero():
			l.Expires = until
		case !del.IsZero():
			l.Expires = del
		}
	}
	return l, nil
}

// Links returns the links of sunset.
func (s *Service) Links(ctx context.Context, sunset string) (*Links, error) {
	p, _, err := s.plan(ctx, sunset)
	if err != nil {
		return nil, err
	}
	return LinksFor(p, s.getenv, s.now())
}

// ExportURL returns userID's download link for notices, or "" when the sunset exports nothing
// or its link key is missing. Notify calls it for every recipient (Recipient.ExportURL).
func (s *Service) ExportURL(sunset, userID string) string {
	l, err := s.Links(context.Background(), sunset)
	if err != nil || userID == "" {
		return ""
	}
	return l.URL(sunset, userID)
}

// Download is one user's export, opened through a valid link.
type Download struct {
	Sunset  string
	Service plan.Text
	User    *User
	Expires time.Time
	bucket  func(ctx context.Context) (*backup.Dest, error)
}

// Ready reports whether the zip exists.
func (d *Download) Ready() bool { return d.User != nil && d.User.State == UserDone && d.User.Key != "" }

// Open opens the zip for reading. The caller closes it. A zip that is not there, and one whose
// path in a local export folder is or passes through a symbolic link (backup.ErrLink: never
// followed, wherever it points), are ENOTFOUND errors that are also ErrOutside or ErrGone.
func (d *Download) Open(ctx context.Context) (io.ReadCloser, error) {
	if !d.Ready() {
		return nil, ErrNoUser
	}
	dest, err := d.bucket(ctx)
	if err != nil {
		return nil, err
	}
	r, err := dest.Open(ctx, d.User.Key)
	if err != nil {
		dest.Close()
		switch {
		case errors.Is(err, backup.ErrLink):
			return nil, errors.Join(sunset.Errorf(sunset.ENOTFOUND, "This export is not available."), ErrOutside, err)
		case errors.Is(err, backup.ErrNoObject):
			return nil, errors.Join(sunset.Errorf(sunset.ENOTFOUND, "This export is no longer available."), ErrGone, err)
		}
		return nil, err
	}
	return readCloser{r, dest}, nil
}

// ErrOutside is a download whose file, in a local export folder, is or passes through a
// symbolic link: it is refused, never followed (the link could lead out of the folder).
var ErrOutside = errors.New("export: the export file is a symbolic link")

// ErrGone is a download whose file is not at its destination any more.
var ErrGone = errors.New("export: the export file is missing")

type readCloser struct {
	io.ReadCloser
	dest *backup.Dest
}

func (r readCloser) Close() error {
	err := r.ReadCloser.Close()
	r.dest.Close()
	return err
}

// Open checks a download link's token and returns the export it names: ErrTampered,
// ErrExpired, ErrNoExport, or a Download whose User is nil when that user has no export yet.
func (s *Service) Open(ctx context.Context, sunset, token string) (*Download, error) {
	p, _, err := s.plan(ctx, sunset)
	if err != nil {
		return nil, err
	}
	l, err := LinksFor(p, s.getenv, s.now())
	if err != nil {
		return nil, err
	}
	id, err := l.Open(sunset, token, s.now())
	if err != nil {
		return nil, err
	}
	d := &Download{Sunset: sunset, Service: p.Service.Title, Expires: l.Expires,
		bucket: func(ctx context.Context) (*backup.Dest, error) { return Destination(ctx, p) }}
	if d.Service.EN == "" && d.Service.ZH == "" {
		d.Service = plan.Text{EN: p.Service.Name}
	}
	u, err := s.Store.ExportUser(ctx, sunset, id)
	switch {
	case errors.Is(err, ErrNoUser):
		d.User = &User{Sunset: sunset, ID: id}
	case err != nil:
		return nil, err
	default:
		d.User = u
	}
	return d, nil
}

// RecordDownload counts a download of d.
func (s *Service) RecordDownload(ctx context.Context, d *Download) error {
	return s.Store.RecordDownload(ctx, d.Sunset, d.User.ID, s.now())
}

// Destination opens where plan p keeps export zips: data.export.to, else the first backup's.
func Destination(ctx context.Context, p *plan.Plan) (*backup.Dest, error) {
	to := ""
	if p.Data.Export != nil {
		to = p.Data.Export.To
	}
	if to == "" && len(p.Data.Backups) > 0 {
		to = p.Data.Backups[0].To
	}
	if to == "" {
		return nil, errors.New("the plan says nowhere to keep exports: set data.export.to")
	}
	return backup.OpenDest(ctx, to)
}

// Fetcher returns the fetcher of plan p and a function that releases it.
func (s *Service) Fetcher(p *plan.Plan) (Fetcher, func(), error) {
	e := p.Data.Export
	if e.PerUser.HTTP != "" {
		return &HTTPFetcher{URL: e.PerUser.HTTP, Client: s.HTTPClient}, func() {}, nil
	}
	var src *plan.BackupSource
	for i, b := range p.Data.Backups {
		if (b.Source.SQLite != "" || b.Source.Postgres != "") && (e.PerUser.Database == "" || e.PerUser.Database == b.Name) {
			src = &p.Data.Backups[i].Source
			break
		}
	}
	if src == nil {
		return nil, nil, errors.New("an sql export needs a data.backups entry with an sqlite or postgres source")
	}
	var db *sql.DB
	var err error
	if src.SQLite != "" {
		path := src.SQLite
		if !filepath.IsAbs(path) && p.File() != "" {
			path = filepath.Join(filepath.Dir(p.File()), path)
		}
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	} else {
		dsn, rerr := resolveRef(string(src.Postgres), s.getenv)
		if rerr != nil || dsn == "" {
			return nil, nil, fmt.Errorf("the PostgreSQL DSN reference %s is empty or unreadable", src.Postgres)
		}
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		return nil, nil, err
	}
	q := e.PerUser.SQL
	if src.Postgres != "" {
		q = strings.Replace(q, "?", "$1", 1)
	} else {
		q = strings.Replace(q, "$1", "?", 1)
	}
	return &SQLFetcher{DB: db, Query: q}, func() { db.Close() }, nil
}

func resolveRef(v string, getenv func(string) string) (string, error) {
	switch {
	case strings.HasPrefix(v, "env:"):
		return getenv(strings.TrimPrefix(v, "env:")), nil
	case strings.HasPrefix(v, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(v, "file:"))
		return strings.TrimSpace(string(b)), err
	}
	return v, nil
}

// UsersOf returns the stream of users of sunset's plan: the contacts stored with its plan
// bundle (consumers.contacts), or, without one, the recipients the notify outbox knows. The
// first result names the stream.
func (s *Service) UsersOf(sunset string, p *plan.Plan) (string, Users) {
	if p.Consumers.Contacts != "" {
		return "contacts", func(ctx context.Context, skip int64, fn func(Recipient) error) error {
			var n int64
			return s.Store.EachContact(ctx, sunset, func(c contacts.Contact) error {
				n++
				if n <= skip {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				return fn(Recipient{ID: c.ID, Locale: c.Locale})
			})
		}
	}
	return "outbox", func(ctx context.Context, skip int64, fn func(Recipient) error) error {
		after := ""
		var n int64
		for {
			page, err := s.Store.OutboxRecipients(ctx, sunset, after, 1000)
			if err != nil {
				return err
			}
			for _, r := range page {
				n++
				after = r.ID
				if n <= skip {
					continue
				}
				if err := fn(r); err != nil {
					return err
				}
			}
			if len(page) < 1000 {
				return nil
			}
		}
	}
}

// RunOptions tune a job run.
type RunOptions struct {
	Batch, Workers int
	Progress       io.Writer
	// RetryFailed exports again, after the stream, the users whose export failed.
	RetryFailed bool
}

// Run exports every user of sunset, resuming the job where it stopped.
func (s *Service) Run(ctx context.Context, sunset string, o RunOptions) (*Job, error) {
	p, _, err := s.plan(ctx, sunset)
	if err != nil {
		return nil, err
	}
	l, err := LinksFor(p, s.getenv, s.now())
	if err != nil {
		return nil, err
	}
	dest, err := Destination(ctx, p)
	if err != nil {
		return nil, err
	}
	defer dest.Close()
	f, release, err := s.Fetcher(p)
	if err != nil {
		return nil, err
	}
	defer release()
	source, users := s.UsersOf(sunset, p)
	x := &Exporter{Store: s.Store, Fetch: f, Bucket: dest.Bucket, Service: p.Service.Title.In("en"), Runtime: s.Runtime,
		Batch: o.Batch, Workers: o.Workers, Progress: o.Progress}
	if x.Service == "" {
		x.Service = p.Service.Name
	}
	job, err := x.Run(ctx, sunset, source, l.Expires, users)
	if err != nil || !o.RetryFailed {
		return job, err
	}
	return job, x.RetryFailed(ctx, job)
}

// Status is where a sunset's exports stand.
type Status = progress.Status

// Status returns the job and the counts of sunset's exports.
func (s *Service) Status(ctx context.Context, sunset string) (*Status, error) {
	st := &Status{}
	job, err := s.Store.GetExportJob(ctx, sunset)
	if err != nil && !errors.Is(err, ErrNoJob) {
		return nil, err
	}
	st.Job = job
	if st.Counts, err = s.Store.ExportCounts(ctx, sunset); err != nil {
		return nil, err
	}
	return st, nil
}
