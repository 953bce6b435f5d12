package rehearse

import (
	"os"
	"strings"
	"testing"

	"github.com/sunsetops/sunset/plan"
)

var testLocal = Local{Upstream: "http://127.0.0.1:1", SMTP: "127.0.0.1:2", Hooks: "http://127.0.0.1:3", PublicURL: "http://127.0.0.1:4", Scratch: "/tmp/scratch"}

// TestIsolateLeavesNoRealEndpoint rewrites the example plan and checks that it still validates
// and that none of its real endpoints, data sources or commands is left.
func TestIsolateLeavesNoRealEndpoint(t *testing.T) {
	raw, err := os.ReadFile("../examples/api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	iso, err := Isolate(raw, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	out := string(iso.YAML)
	for _, real := range []string{"127.0.0.1:9000", "127.0.0.1:2525", "hooks.example.com", "SUNSET_SLACK_WEBHOOK",
		"/var/lib/orders", "/var/backups", "systemctl", "SUNSET_SMTP_PASSWORD"} {
		if strings.Contains(out, real) {
			t.Errorf("the rehearsal plan still holds %q:\n%s", real, out)
		}
	}
	p, problems := plan.Parse("../examples/api-v2.yaml", iso.YAML)
	if err := problems.Err(); err != nil {
		t.Fatalf("the rehearsal plan does not validate: %v\n%s", err, out)
	}
	if p.Service.Upstream != testLocal.Upstream || p.Channels.Email.SMTP != testLocal.SMTP || p.Channels.Email.TLS != "none" {
		t.Errorf("upstream %q, smtp %q tls %q", p.Service.Upstream, p.Channels.Email.SMTP, p.Channels.Email.TLS)
	}
	if got := p.Runbook[len(p.Runbook)-1]; got.HTTP == nil || !strings.HasPrefix(got.HTTP.URL, testLocal.Upstream+"/_rehearsal/step/") || len(got.Exec) != 0 {
		t.Errorf("the exec step was not replaced by a stand-in: %+v", got)
	}
	if len(iso.Sources) != 1 || iso.Sources[0].SQLite == "" || !strings.HasPrefix(iso.Sources[0].SQLite, testLocal.Scratch) {
		t.Errorf("scratch sources: %+v", iso.Sources)
	}
	if len(iso.Substitutions) < 6 {
		t.Errorf("substitutions: %+v", iso.Substitutions)
	}
}

// TestIsolateRefusesWhatIsNotAPlan: malformed documents are errors, never a panic.
func TestIsolateRefusesWhatIsNotAPlan(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":        "",
		"scalar":       "just words",
		"list":         "- a\n- b\n",
		"broken yaml":  "service: {name: [\n",
		"tab indented": "service:\n\tname: x\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Isolate([]byte(doc), testLocal); err == nil {
				t.Fatalf("Isolate(%q) succeeded", doc)
			}
		})
	}
}

// TestIsolateOddShapes: fields of an unexpected shape are left alone, not fatal.
func TestIsolateOddShapes(t *testing.T) {
	for name, doc := range map[string]string{
		"channels a list":   "channels: [1, 2]\n",
		"runbook a mapping": "runbook: {a: b}\n",
		"data a scalar":     "data: x\n",
		"backup no source":  "data: {backups: [{name: a}]}\n",
		"exec a scalar":     "runbook: [{name: s, exec: ls}]\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Isolate([]byte(doc), testLocal); err != nil {
				t.Fatalf("Isolate(%q): %v", doc, err)
			}
		})
	}
}

// FuzzIsolate: any input is rewritten or refused, without panicking, and rewriting is stable:
// isolating an isolated plan changes nothing more.
func FuzzIsolate(f *testing.F) {
	if raw, err := os.ReadFile("../examples/api-v2.yaml"); err == nil {
		f.Add(string(raw))
	}
	f.Add("service: {upstream: http://x}\nchannels: {email: {smtp: a:1}}\n")
	f.Add("runbook: [{name: s, exec: [a, b], rollback: [c]}]\n")
	f.Fuzz(func(t *testing.T, doc string) {
		once, err := Isolate([]byte(doc), testLocal)
		if err != nil {
			return
		}
		twice, err := Isolate(once.YAML, testLocal)
		if err != nil {
			t.Fatalf("the isolated plan cannot be isolated again: %v\n%s", err, once.YAML)
		}
		if string(twice.YAML) != string(once.YAML) {
			t.Fatalf("isolating twice changed the plan:\n%s\n---\n%s", once.YAML, twice.YAML)
		}
	})
}

// TestCalls fills the routes' wildcards and tries both reads and writes on method-less routes.
func TestCalls(t *testing.T) {
	p := &plan.Plan{Features: []plan.Feature{{Name: "a", Routes: []string{"GET /v1/reports/{id}", "/v1/orders/", "POST api.example.com/v1/x"}}}}
	got := Calls(p)
	want := []Call{{"GET", "/v1/reports/42"}, {"GET", "/v1/orders/42"}, {"POST", "/v1/orders/42"}, {"POST", "/v1/x"}}
	if len(got) != len(want) {
		t.Fatalf("Calls = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Calls[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := Calls(&plan.Plan{}); len(got) != 1 || got[0].Path != "/" {
		t.Errorf("no features: %v", got)
	}
}
