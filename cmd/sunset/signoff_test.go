package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignoffsDuringAPauseFromTheCLI: the example plan waits for support and legal; paused in
// draft, it takes both sign-offs, says they count on resume, and resume schedules it.
func TestSignoffsDuringAPauseFromTheCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, stop := server(t, "sqlite:"+filepath.Join(t.TempDir(), "sunset.db"))
	defer stop()
	cli := func(args ...string) (int, string, string) { return run(t, ctx, append(args, "--server", url)...) }
	if code, out, errs := cli("pause", "orders-api-v1", "--reason", "legal review of the notice texts"); code != 0 || !strings.Contains(out, "now paused") {
		t.Fatalf("pause: exit %d %s%s", code, out, errs)
	}
	for _, who := range []string{"support", "legal"} {
		code, out, errs := cli("signoff", "orders-api-v1", "--as", who)
		if code != 0 || !strings.Contains(out, "state paused (paused in draft: the sign-off counts when it resumes)") {
			t.Fatalf("signoff as %s: exit %d %s%s", who, code, out, errs)
		}
	}
	if code, out, errs := cli("resume", "orders-api-v1", "--reason", "texts approved"); code != 0 || !strings.Contains(out, "now scheduled") {
		t.Fatalf("resume: exit %d %s%s; want scheduled", code, out, errs)
	}
	if code, out, errs := cli("signoff", "orders-api-v1", "--as", "legal"); code != 1 || !strings.Contains(errs, "already signed off") {
		t.Errorf("a second sign-off: exit %d %s%s", code, out, errs)
	}
}
