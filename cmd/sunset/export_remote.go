package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/sunsetops/sunset/client"
)

// exportPollEvery is how often `sunset export run --server` asks how the server's run goes.
const exportPollEvery = 500 * time.Millisecond

// exportRunRemote asks the server of cl to run the export job of the sunset called name, then
// follows it: a progress line on stderr whenever the job moves, a summary on stdout at the end.
// It fails when the server's run stopped early (it resumes when run again).
func exportRunRemote(cmd *cobra.Command, cl *client.Client, name string, req client.ExportRunRequest) error {
	ctx := cmd.Context()
	start := time.Now()
	p, err := cl.RunExport(ctx, name, req)
	if err != nil {
		return clientError(err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "export %s: running on %s\n", name, cl.BaseURL)
	last := ""
	for {
		if line := progressLine(p); line != last {
			fmt.Fprintf(cmd.ErrOrStderr(), "export %s: %s\n", name, line)
			last = line
		}
		if !p.Running {
			break
		}
		select {
		case <-ctx.Done():
			return fail("stopped following the export of %s; the server's run goes on (sunset export run %s --server %s follows it again)", name, name, cl.BaseURL)
		case <-time.After(exportPollEvery):
		}
		if p, err = cl.ExportStatus(ctx, name); err != nil {
			return clientError(err)
		}
	}
	if p.Job != nil {
		fmt.Fprintf(cmd.OutOrStdout(), "Export of %s: %s, %d users handled (%d done, %d failed) in %s; links expire %s\n",
			name, p.Job.State, p.Job.Position, p.Job.Done, p.Job.Failed, time.Since(start).Round(time.Millisecond), p.Job.Expires.Format(time.RFC3339))
	}
	if p.RunError != "" {
		return fail("export %s stopped on the server: %s (run it again to resume)", name, p.RunError)
	}
	return nil
}

// progressLine says where the job stands.
func progressLine(p *client.ExportStatus) string {
	if p.Job == nil {
		return "starting"
	}
	return fmt.Sprintf("%d users handled (%d done, %d failed), job %s", p.Job.Position, p.Job.Done, p.Job.Failed, p.Job.State)
}
