package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
)

// memHistory is a sunset's history in memory: its Events and whether delete_data ran.
type memHistory struct {
	events []HistoryEvent
	ran    bool
}

func (h *memHistory) Record(_ context.Context, _, typ, actor string, data map[string]any) error {
	raw, _ := json.Marshal(data)
	h.events = append(h.events, HistoryEvent{Seq: int64(len(h.events) + 1), Type: typ, Actor: actor, Data: raw})
	return nil
}

// retentionFor is a Retention over h for a plan that deletes dir (a backup-less plan: no archive
// is needed) with the retention settings extra.
func retentionFor(t *testing.T, h *memHistory, dir, extra string, exportsErr error) *Retention {
	t.Helper()
	doc := fmt.Sprintf("service: {name: notes-v1}\nmilestones: {announce: 2027-01-04, shutdown: 2027-03-01, delete_data: 2027-09-01}\ndata:\n  retention: {delete: {dir: %s}%s}\n", dir, extra)
	if exportsErr != nil {
		doc += "  export: {per_user: {http: \"http://127.0.0.1:9/export/{id}\"}, to: file:///tmp/exports}\n"
	}
	p, problems := plan.Parse("notes.yaml", []byte(doc))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	return &Retention{
		Plan:       func(context.Context, string) (*plan.Plan, error) { return p, nil },
		History:    func(context.Context, string) ([]HistoryEvent, error) { return h.events, nil },
		ActionDone: func(_ context.Context, _, key string) (bool, error) { return key == deleteActionKey && h.ran, nil },
		Exports:    func(context.Context, string) error { return exportsErr },
		Events:     h,
	}
}

// TestRetentionDeletesOnlyAfterDeleteDataWithItsApprovalsAndNeverTwice: before delete_data,
// without enough distinct approvals, and under a legal hold nothing is deleted (a conflict that
// says why); approved, the directory goes and data.deleted names it; a second deletion is
// refused.
func TestRetentionDeletesOnlyAfterDeleteDataWithItsApprovalsAndNeverTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "service-data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &memHistory{}
	r := retentionFor(t, h, dir, ", approvals: 2", nil)
	conflict := func(err error, want string) {
		t.Helper()
		if sunset.ErrorCode(err) != sunset.ECONFLICT || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want a conflict saying %q", err, want)
		}
		if _, serr := os.Stat(dir); serr != nil {
			t.Fatalf("deleted although refused: %v", serr)
		}
	}
	_, err := r.DeleteNow(ctx, "notes-v1", "li.wei")
	conflict(err, "has not run yet")
	h.ran = true
	_, err = r.DeleteNow(ctx, "notes-v1", "li.wei")
	conflict(err, "waiting for 2 approval(s)")
	if _, _, err := r.Approve(ctx, "notes-v1", "li.wei"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Approve(ctx, "notes-v1", "li.wei"); sunset.ErrorCode(err) != sunset.ECONFLICT {
		t.Fatalf("a second approval by the same person: %v", err)
	}
	_, err = r.DeleteNow(ctx, "notes-v1", "li.wei")
	conflict(err, "have 1 (li.wei)")
	approvers, need, err := r.Approve(ctx, "notes-v1", "zhang.min")
	if err != nil || need != 2 || strings.Join(approvers, ",") != "li.wei,zhang.min" {
		t.Fatalf("approvals %v of %d: %v", approvers, need, err)
	}
	d, err := r.DeleteNow(ctx, "notes-v1", "li.wei")
	if err != nil || !d.Deleted || d.What != "directory "+dir {
		t.Fatalf("delete: %+v %v", d, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("still there: %v", err)
	}
	last := h.events[len(h.events)-1]
	if last.Type != EventDeleted || last.Actor != "li.wei" || !strings.Contains(string(last.Data), `"deleted":true`) {
		t.Errorf("event %+v %s", last, last.Data)
	}
	_, err = r.DeleteNow(ctx, "notes-v1", "li.wei")
	if sunset.ErrorCode(err) != sunset.ECONFLICT || !strings.Contains(err.Error(), "already deleted (event 3)") {
		t.Errorf("second deletion: %v", err)
	}
}

// TestRetentionNeverDeletesUnderALegalHoldOrWithExportsOutstanding: approved and past
// delete_data, a legal hold or outstanding exports still refuse, with their reason.
func TestRetentionNeverDeletesUnderALegalHoldOrWithExportsOutstanding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		extra   string
		exports error
		want    string
	}{
		"legal hold":          {", legal_hold: true", nil, "legal hold"},
		"exports outstanding": {"", errors.New("3 exports were neither downloaded nor kept in a backup"), "3 exports were neither downloaded"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "service-data")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			h := &memHistory{ran: true}
			r := retentionFor(t, h, dir, tc.extra, tc.exports)
			if _, _, err := r.Approve(ctx, "notes-v1", "li.wei"); err != nil {
				t.Fatal(err)
			}
			_, err := r.DeleteNow(ctx, "notes-v1", "li.wei")
			if sunset.ErrorCode(err) != sunset.ECONFLICT || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("deleted: %v", err)
			}
		})
	}
}

// TestRetentionDeletesOnlyWithTheArchiveTheRunbookVerified: an archive merely present at the
// destination (an older backup, or one the final run has not verified yet) does not allow the
// deletion; the archive the latest runbook run verified does, while it is still there.
func TestRetentionDeletesOnlyWithTheArchiveTheRunbookVerified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := t.TempDir()
	dir := filepath.Join(base, "service-data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("user file"), 0o600)
	doc := fmt.Sprintf("service: {name: notes-v1}\nmilestones: {announce: 2027-01-04, shutdown: 2027-03-01, delete_data: 2027-09-01}\n"+
		"data:\n  backups: [{name: files, source: {dir: %[1]s}, to: file://%[2]s/backups}]\n  retention: {delete: {dir: %[1]s}}\n", dir, base)
	p, problems := plan.Parse("notes.yaml", []byte(doc))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	// An earlier backup, which no run verified.
	svc := &BackupService{Key: backup.Key("0123456789abcdef-deletion-test")}
	older, err := svc.Backup(ctx, p.Data.Backups[0], false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h := &memHistory{ran: true}
	var verified map[string]string
	r := &Retention{
		Plan:       func(context.Context, string) (*plan.Plan, error) { return p, nil },
		History:    func(context.Context, string) ([]HistoryEvent, error) { return h.events, nil },
		ActionDone: func(_ context.Context, _, key string) (bool, error) { return key == deleteActionKey && h.ran, nil },
		Events:     h,
		Verified:   func(context.Context, string) (map[string]string, error) { return verified, nil },
	}
	if _, _, err := r.Approve(ctx, "notes-v1", "li.wei"); err != nil {
		t.Fatal(err)
	}
	refused := func(want string) {
		t.Helper()
		_, err := r.DeleteNow(ctx, "notes-v1", "li.wei")
		if sunset.ErrorCode(err) != sunset.ECONFLICT || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want a conflict saying %q", err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "a.txt")); err != nil {
			t.Fatalf("deleted although refused: %v", err)
		}
	}
	refused("no verified archive of backup files")
	verified = map[string]string{"files": "files-gone"}
	refused("the verified archive files-gone of backup files is no longer at")

	final, err := svc.Backup(ctx, p.Data.Backups[0], true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	verified = map[string]string{"files": final}
	d, err := r.DeleteNow(ctx, "notes-v1", "li.wei")
	if err != nil || !d.Deleted || len(d.Backups) != 1 || d.Backups[0].Archive != final || final == older {
		t.Fatalf("delete: %+v %v (older archive %s, verified %s)", d, err, older, final)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("still there: %v", err)
	}
}
