package export

import (
	"context"
	"fmt"

	"github.com/sunsetops/sunset/backup/export/progress"
)

// CheckReport says whether the service's data may be deleted as far as exports go (progress.CheckReport).
type CheckReport = progress.CheckReport

// Check checks sunset's exports before delete_data.
func (s *Service) Check(ctx context.Context, sunset string) (*CheckReport, error) {
	st, err := s.Status(ctx, sunset)
	if err != nil {
		return nil, err
	}
	r := &CheckReport{Counts: st.Counts}
	switch {
	case st.Job == nil:
		r.Problems = append(r.Problems, "no export job has run: sunset export run "+sunset)
	case st.Job.State != JobDone:
		r.Problems = append(r.Problems, fmt.Sprintf("the export job is %s after %d users: run it again to finish", st.Job.State, st.Job.Position))
	}
	if c := st.Counts; c.Failed > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d exports failed: fix the source and run the job again with --retry-failed", c.Failed))
	}
	if c := st.Counts; c.Outstanding > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d exports were neither downloaded nor kept in a backup: sunset export keep %s", c.Outstanding, sunset))
		var after int64
		for len(r.Outstanding) < 20 {
			page, err := s.Store.ExportUsers(ctx, sunset, after, 500)
			if err != nil {
				return nil, err
			}
			for _, u := range page {
				after = u.Seq
				if u.State == UserDone && u.Downloads == 0 && u.KeptIn == "" && len(r.Outstanding) < 20 {
					r.Outstanding = append(r.Outstanding, u.ID)
				}
			}
			if len(page) < 500 {
				break
			}
		}
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

// Blocking says why the exports of sunset block the deletion of its data, from the state of its
// job and its counts (as a store reads them inside the delete_data action's transaction), or nil.
// It is Check's verdict without the list of outstanding users.
func Blocking(sunset string, jobState JobState, c Counts) error {
	switch {
	case jobState != JobDone:
		return fmt.Errorf("the export job has not finished (sunset export run %s)", sunset)
	case c.Failed > 0:
		return fmt.Errorf("%d exports failed (sunset export status %s)", c.Failed, sunset)
	case c.Outstanding > 0:
		return fmt.Errorf("%d exports were neither downloaded nor kept in a backup (sunset export keep %s)", c.Outstanding, sunset)
	}
	return nil
}
