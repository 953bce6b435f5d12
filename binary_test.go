package sunset_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheBinaryLeavesOutHeavyAndTestOnlyModules keeps `go build ./cmd/sunset` lean (49 MB
// instead of 93 MB): no gocloud, AWS SDK, gRPC or OpenTelemetry (backup destinations use
// minio-go and plain Go), and no module that only tests use.
func TestTheBinaryLeavesOutHeavyAndTestOnlyModules(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", "./cmd/sunset").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"gocloud.dev", "github.com/aws/", "google.golang.org/grpc", "go.opentelemetry.io",
		"github.com/chromedp/", "github.com/johannesboyne/gofakes3"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("the sunset binary imports %s (directly or not)", dep)
			}
		}
	}
}
