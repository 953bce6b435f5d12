package web

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/runbook"
	"github.com/sunsetops/sunset/runbook/runs"
	"github.com/sunsetops/sunset/web/public"
)

// fakeRunbooks answers like the runbook service of serve, from memory.
type fakeRunbooks struct{ approvals []string }

func (f *fakeRunbooks) run(name string) (*runs.RunView, error) {
	if name != "billing-v1" {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "Sunset %s has no runbook run.", name)
	}
	at := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)
	return &runs.RunView{
		Run: runs.Run{ID: 1, Sunset: name, State: runs.StateWaiting, StartedBy: "engine (runbook/start)", Created: at, Updated: at,
			Steps: []*runs.StepState{{Name: "sign-off", Kind: "approval", Status: runs.StepWaiting, Attempts: 1}}},
		Approvals: []runs.Approval{}, Log: []runs.LogLine{{Seq: 1, At: at, Line: "run 1 started"}}}, nil
}

func (f *fakeRunbooks) Status(_ context.Context, name string) (*runs.RunView, error) {
	return f.run(name)
}

func (f *fakeRunbooks) DryRun(_ context.Context, name string) (*runs.DryRun, error) {
	if _, err := f.run(name); err != nil {
		return nil, err
	}
	return &runs.DryRun{Sunset: name, Steps: []runs.DryStep{{Name: "sign-off", Kind: "approval", Description: "1 approval(s) by role approver", Idempotent: true}},
		NoReturn: 1, Backups: []string{}}, nil
}

func (f *fakeRunbooks) Start(_ context.Context, name, actor string) (*runs.RunView, error) {
	run, err := f.run(name)
	if err != nil {
		return nil, err
	}
	run.ID, run.State, run.StartedBy = 2, runs.StateRunning, actor
	return run, nil
}

func (f *fakeRunbooks) Approve(_ context.Context, name, step, person, role string) (*runs.RunView, error) {
	run, err := f.run(name)
	if err != nil {
		return nil, err
	}
	if step != "sign-off" {
		return nil, sunset.Errorf(sunset.EINVALID, "The run has no approval step %q.", step)
	}
	f.approvals = append(f.approvals, person+"/"+role)
	run.State = runs.StateRunning
	return run, nil
}

func (f *fakeRunbooks) Resume(_ context.Context, name, _ string, req runs.ResumeRequest) (*runs.RunView, error) {
	run, err := f.run(name)
	if err != nil {
		return nil, err
	}
	if req.MarkDone && req.Retry {
		return nil, sunset.Errorf(sunset.EINVALID, "Choose one of mark_done and retry.")
	}
	run.State = runs.StateRunning
	return run, nil
}

func (f *fakeRunbooks) Abort(_ context.Context, name, actor, reason string) (*runs.RunView, error) {
	run, err := f.run(name)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, sunset.Errorf(sunset.EINVALID, "An abort needs a reason.")
	}
	run.State, run.Message = runs.StateAborted, "aborted by "+actor+": "+reason
	return run, nil
}

func (f *fakeRunbooks) StartBackup(_ context.Context, name, actor string, req runs.BackupRequest) (*runs.BackupJob, error) {
	if _, err := f.run(name); err != nil {
		return nil, err
	}
	if req.Backup != "" && req.Backup != "main-db" {
		return nil, sunset.Errorf(sunset.EINVALID, "The plan declares no backup %q.", req.Backup)
	}
	return &runs.BackupJob{Sunset: name, State: runs.BackupRunning, StartedBy: actor, Verify: req.Verify,
		Started: time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC), Backups: []runs.BackupOutcome{{Name: "main-db", State: "running"}}}, nil
}

func (f *fakeRunbooks) Backups(_ context.Context, name string) (*runs.BackupList, error) {
	if _, err := f.run(name); err != nil {
		return nil, err
	}
	return &runs.BackupList{Sunset: name, Backups: []runs.BackupArchives{{Name: "main-db", To: "file:///var/backups/billing", Archives: []runs.Archive{
		{ID: "main-db-20270301T020000Z-1a2b3c", Name: "main-db", Kind: "sqlite", Created: time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC), Entries: 1, Bytes: 4096, Archive: 1024,
			Location: "file:///var/backups/billing/main-db-20270301T020000Z-1a2b3c.tar.zst"}}}}}, nil
}

// fakeExports has one export, of user u1, behind the token "good"; "old" is expired.
// fakeExports serves the exports of one sunset: billing-v1, or the one named by sunset.
type fakeExports struct {
	downloads int
	sunset    string
}

// name is the one sunset whose exports f serves.
func (f *fakeExports) name() string {
	if f.sunset == "" {
		return "billing-v1"
	}
	return f.sunset
}

func (f *fakeExports) ExportStatus(_ context.Context, name string) (*client.ExportStatus, error) {
	if name != "billing-v1" {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset %s.", name)
	}
	return &client.ExportStatus{Status: export.Status{
		Job:    &export.Job{Sunset: name, State: export.JobDone, Source: "contacts:/srv/c.csv", Position: 2, Done: 2},
		Counts: export.Counts{Users: 2, Done: 2, Downloaded: int64(f.downloads), Outstanding: 2 - int64(f.downloads)}}}, nil
}

// RunExport starts nothing: it answers the status, running.
func (f *fakeExports) RunExport(ctx context.Context, name string, _ client.ExportRunRequest) (*client.ExportStatus, error) {
	st, err := f.ExportStatus(ctx, name)
	if err != nil {
		return nil, err
	}
	st.Running = true
	return st, nil
}

// ExportCheck fails while an export is outstanding.
func (f *fakeExports) ExportCheck(ctx context.Context, name string) (*export.CheckReport, error) {
	st, err := f.ExportStatus(ctx, name)
	if err != nil {
		return nil, err
	}
	rep := &export.CheckReport{OK: st.Counts.Outstanding == 0, Counts: st.Counts}
	if !rep.OK {
		rep.Problems, rep.Outstanding = []string{"2 exports were neither downloaded nor kept in a backup: sunset export keep billing-v1"}, []string{"u1", "u2"}
	}
	return rep, nil
}

// KeepExports keeps the outstanding exports in one archive.
func (f *fakeExports) KeepExports(ctx context.Context, name string) (*client.ExportKept, error) {
	st, err := f.ExportStatus(ctx, name)
	if err != nil {
		return nil, err
	}
	return &client.ExportKept{Archive: "exports-billing-v1-20270301", Kept: st.Counts.Outstanding}, nil
}

// ExportLink links to the token "good".
func (f *fakeExports) ExportLink(_ context.Context, name, user string) (*client.ExportLink, error) {
	if name != "billing-v1" {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset %s.", name)
	}
	return &client.ExportLink{User: user, URL: "http://sunset.test/exports/billing-v1/good"}, nil
}

// fakeRetention approves and deletes in memory: one approval is needed.
type fakeRetention struct{ approvers []string }

func (f *fakeRetention) ApproveDelete(_ context.Context, name, person string) (*client.DeleteApprovals, error) {
	if name != "billing-v1" {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset %s.", name)
	}
	if slices.Contains(f.approvers, person) {
		return nil, sunset.Errorf(sunset.ECONFLICT, "%s has already approved the deletion of %s's data.", person, name)
	}
	f.approvers = append(f.approvers, person)
	return &client.DeleteApprovals{ApprovedBy: f.approvers, Needed: 1}, nil
}

func (f *fakeRetention) DeleteData(_ context.Context, name, _ string) (*runbook.Deletion, error) {
	if name != "billing-v1" {
		return nil, sunset.Errorf(sunset.ENOTFOUND, "No sunset %s.", name)
	}
	if len(f.approvers) == 0 {
		return nil, sunset.Errorf(sunset.ECONFLICT, "Not deleted: waiting for 1 approval(s) of the deletion, have 0 ().")
	}
	return &runbook.Deletion{Deleted: true, ApprovedBy: f.approvers, What: "directory /srv/billing",
		Backups: []runbook.BackupRef{{Name: "main-db", Archive: "main-db-20270301", Location: "file:///backups/main-db-20270301", Created: time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC)}}}, nil
}

func (f *fakeExports) OpenExport(_ context.Context, name, token string) (*public.ExportDownload, error) {
	switch {
	case name != f.name():
		return nil, public.ErrLinkInvalid
	case token == "old":
		return nil, public.ErrLinkExpired
	case token != "good":
		return nil, public.ErrLinkInvalid
	}
	return &public.ExportDownload{Service: plan.Text{EN: "Billing", ZH: "账单"}, UserID: "u1", Ready: true, Bytes: 2048,
		Expires: time.Date(2027, 9, 1, 0, 0, 0, 0, time.UTC),
		Open:    func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PK zip")), nil },
		Record:  func(context.Context) error { f.downloads++; return nil }}, nil
}

func TestExportLinksAreCheckedAndDownloadsRecorded(t *testing.T) {
	b := setup(t)
	fx := &fakeExports{}
	b.srv.Exports = fx
	b.rehandle()
	b.apply(t, testPlan)
	b.announce(t, "billing-v1")
	for _, tc := range []struct {
		name, path, lang string
		status           int
		want             string
	}{
		{"a valid link shows the page", "/exports/billing-v1/good", "en", 200, "Download your data from Billing"},
		{"in Chinese", "/exports/billing-v1/good", "zh", 200, "下载您在 账单 的数据"},
		{"a tampered link is refused", "/exports/billing-v1/good.x", "en", 403, "This link is not valid"},
		{"another sunset's link is refused", "/exports/other/good", "zh", 404, "没有关于"},
		{"an expired link is gone", "/exports/billing-v1/old", "en", 410, "This link has expired"},
		{"an expired download is gone", "/exports/billing-v1/old/download", "en", 410, "expired"},
		{"a path escaping the folder matches no route", "/exports/billing-v1/..%2F..%2Fetc%2Fpasswd/download", "en", 403, "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, "GET", tc.path+"?lang="+tc.lang, "")
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Fatalf("%d %.300s, want %d with %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	r := b.do(t, "GET", "/exports/billing-v1/good/download", "")
	if r.status != http.StatusOK || string(r.body) != "PK zip" || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	if fx.downloads != 1 {
		t.Errorf("downloads recorded = %d, want 1", fx.downloads)
	}
}
