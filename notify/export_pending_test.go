package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset/backup/export"
	"github.com/sunsetops/sunset/engine"
)

// TestExportPendingReachesOnlyUsersWhoseExportWaits sends a notice to export_pending: acme's
// export waits, zhongshan downloaded theirs and hooli's is kept in a backup, so only acme is told.
func TestExportPendingReachesOnlyUsersWhoseExportWaits(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st engine.Store) {
		planText := strings.Replace(planYAML, "to: all, channels: [email, webhook, feed]", "to: export_pending, channels: [email]", 1) +
			"data:\n  export:\n    per_user: {http: \"http://127.0.0.1:9000/export/{id}\"}\n    to: file:///var/exports\n"
		b := setupPlan(t, st, planText)
		now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
		var users []export.User
		for i, id := range []string{"acme", "zhongshan", "hooli"} {
			users = append(users, export.User{Sunset: "orders-api-v1", ID: id, Seq: int64(i + 1), Locale: "en",
				State: export.UserDone, Key: export.BlobKey("orders-api-v1", id), Created: now})
		}
		job := &export.Job{Sunset: "orders-api-v1", State: export.JobDone, Source: "outbox", Position: 3, Done: 3, Started: now, Updated: now}
		if err := b.st.SaveExportBatch(t.Context(), job, users); err != nil {
			t.Fatal(err)
		}
		if err := b.st.RecordDownload(t.Context(), "orders-api-v1", "zhongshan", now); err != nil {
			t.Fatal(err)
		}
		if n, err := b.st.KeepExports(t.Context(), "orders-api-v1", 3, 3, "archive-1"); err != nil || n != 1 {
			t.Fatalf("KeepExports = %d, %v", n, err)
		}
		b.runNotice(t)
		b.drain(t)
		mails := b.smtp.Mails()
		if len(mails) != 1 || mails[0].To[0] != "ops@acme.example.com" {
			var to []string
			for _, m := range mails {
				to = append(to, m.To...)
			}
			t.Fatalf("mails to %v; want only ops@acme.example.com", to)
		}
	})
}
