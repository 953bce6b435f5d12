package runbook

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/sunsetops/sunset/backup"
	"github.com/sunsetops/sunset/plan"
)

// DeleteDecision says whether the service's data may be deleted now, and if not, why.
type DeleteDecision struct {
	Allowed bool
	Reason  string
}

// DecideDelete applies the retention rules: never under a legal hold, never without the
// approvals data.retention.approvals asks for (default 1, distinct people), never while an
// export is neither downloaded nor kept in a backup (exportsErr), and only when the plan
// declares what to delete.
func DecideDelete(p *plan.Plan, approvers []string, exportsErr error) DeleteDecision {
	r := p.Data.Retention
	switch {
	case r != nil && r.LegalHold:
		return DeleteDecision{Reason: "legal hold: data.retention.legal_hold is set, nothing is deleted"}
	case r == nil || r.Delete == nil:
		return DeleteDecision{Reason: "the plan declares nothing to delete (data.retention.delete)"}
	}
	need := max(r.Approvals, 1)
	if len(approvers) < need {
		return DeleteDecision{Reason: fmt.Sprintf("waiting for %d approval(s) of the deletion, have %d (%s): sunset export approve-delete %s --as NAME",
			need, len(approvers), strings.Join(approvers, ", "), p.Service.Name)}
	}
	if exportsErr != nil {
		return DeleteDecision{Reason: exportsErr.Error()}
	}
	return DeleteDecision{Allowed: true}
}

// VerifiedBackups finds, for every data.backups entry, the archive verified names for it (the
// archives a runbook run verified, by backup name) at its destination. reason says, for the
// first entry without one, why its data may not be deleted yet: no verified archive, or the
// verified archive is gone from its destination or unreadable there. err is set when a
// destination cannot be listed.
func VerifiedBackups(ctx context.Context, p *plan.Plan, verified map[string]string) (refs []BackupRef, reason string, err error) {
	for _, b := range p.Data.Backups {
		id := verified[b.Name]
		if id == "" {
			return nil, "no verified archive of backup " + b.Name + " exists: the runbook's backup step (verify: true) takes and verifies it at shutdown; run the runbook before deleting", nil
		}
		dest, err := backup.OpenDest(ctx, b.To)
		if err != nil {
			return nil, "", err
		}
		list, err := dest.List(ctx)
		dest.Close()
		if err != nil {
			return nil, "", err
		}
		i := slices.IndexFunc(list, func(s backup.Summary) bool { return s.ID == id })
		switch {
		case i < 0:
			return nil, "the verified archive " + id + " of backup " + b.Name + " is no longer at " + b.To + "; back it up and verify it again before deleting", nil
		case list[i].Problem != "":
			return nil, "the verified archive " + id + " of backup " + b.Name + " cannot be read at " + b.To + " (" + list[i].Problem + "); back it up and verify it again before deleting", nil
		}
		refs = append(refs, BackupRef{Name: b.Name, Archive: id, Location: list[i].Location, Created: list[i].Created})
	}
	return refs, "", nil
}

// DeleteData performs the plan's declared deletion (data.retention.delete): removes the
// directory, or runs the command (argv, no shell, with a timeout). It returns what was deleted,
// for the Event. Removing a directory that is already gone is not an error, so a deletion
// repeated after a crash is harmless; a command must be idempotent too.
func DeleteData(ctx context.Context, p *plan.Plan, timeout time.Duration) (deleted string, output string, err error) {
	d := p.Data.Retention.Delete
	if d.Dir != "" {
		if d.Dir == "/" || !strings.HasPrefix(d.Dir, "/") {
			return "", "", fmt.Errorf("refusing to remove %q", d.Dir)
		}
		if err := os.RemoveAll(d.Dir); err != nil {
			return "", "", err
		}
		return "directory " + d.Dir, "", nil
	}
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.Exec[0], d.Exec[1:]...)
	bindToRunner(cmd)
	var tail tailBuffer
	cmd.Stdout, cmd.Stderr = &tail, &tail
	err = cmd.Run()
	if err != nil {
		return "", tail.String(), fmt.Errorf("%s: %w", strings.Join(d.Exec, " "), err)
	}
	return "command " + strings.Join(slices.Clone(d.Exec), " "), tail.String(), nil
}
