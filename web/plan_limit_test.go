package web

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
	"github.com/sunsetops/sunset/plan"
)

// keyBomb is a plan of n short keys, the shape of the hostile plan that once kept the server
// busy for 76 s (1.1 million keys in 9.9 MB).
func keyBomb(n int) string {
	var b strings.Builder
	b.WriteString("service: {name: demo}\nmilestones: {announce: 2027-01-01, shutdown: 2027-03-01}\n")
	for i := range n {
		fmt.Fprintf(&b, "x%4s: 1\n", strconv.FormatInt(int64(i), 36))
	}
	return b.String()
}

// TestPlanBombsPostedAtOnceAreAnswered posts two plan bombs at once to a real server and checks
// that both are answered, each refused at the limit it crosses: the 1 MB one when it counts
// more than plan.MaxNodes values, the 9.9 MB one of the report at the body limit.
func TestPlanBombsPostedAtOnceAreAnswered(t *testing.T) {
	b := setup(t)
	bombs := []struct {
		name       string
		body       string
		wantStatus int
		wantText   string
	}{
		{"1 MB of keys", keyBomb((plan.MaxPlanSize - 100) / 9), http.StatusBadRequest, fmt.Sprintf("plan.yaml:%d:6: the plan holds more than %d values", plan.MaxNodes/2-2, plan.MaxNodes)},
		{"1 MB of keys, again", keyBomb((plan.MaxPlanSize - 100) / 9), http.StatusBadRequest, fmt.Sprintf("plan.yaml:%d:6: the plan holds more than %d values", plan.MaxNodes/2-2, plan.MaxNodes)},
		{"the reported 9.9 MB bomb", keyBomb(1_100_000), http.StatusRequestEntityTooLarge, "larger than 1048576 bytes"},
	}
	type answer struct {
		status int
		ctype  string
		body   string
		err    error
	}
	answers := make([]chan answer, len(bombs))
	for i, bomb := range bombs {
		answers[i] = make(chan answer, 1)
		go func() {
			resp, err := b.ts.Client().Post(b.ts.URL+"/api/v1/plans", "application/yaml", strings.NewReader(bomb.body))
			if err != nil {
				answers[i] <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			answers[i] <- answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(data), err}
		}()
	}
	for i, bomb := range bombs {
		a := <-answers[i]
		if a.err != nil {
			t.Errorf("%s: no answer: %v", bomb.name, a.err)
			continue
		}
		if a.status != bomb.wantStatus || a.ctype != problem.ContentType || !strings.Contains(a.body, bomb.wantText) {
			t.Errorf("%s: %d %s %.300s\nwant %d problem saying %q", bomb.name, a.status, a.ctype, a.body, bomb.wantStatus, bomb.wantText)
		}
	}
}

// TestPlanParsesAreBounded checks that a plan posted while every parsing slot is taken waits,
// then is answered 503 with Retry-After and nothing stored; and that it is accepted once a slot
// is free.
func TestPlanParsesAreBounded(t *testing.T) {
	b := setup(t)
	b.srv.MaxPlanParses = 1
	b.srv.PlanWait = 1 // a nanosecond: the test never waits on a clock
	b.rehandle()
	release, err := b.srv.api().AcquirePlanSlot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := b.do(t, http.MethodPost, "/api/v1/plans", testPlan)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" {
		t.Fatalf("with every slot taken: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if p := r.problem(t); p.Code != problem.CodeUnavailable || !strings.Contains(p.Detail, "busy parsing other plans") {
		t.Errorf("problem %+v", p)
	}
	if _, err := b.eng.Get(t.Context(), "billing-v1"); sunset.ErrorCode(err) != sunset.ENOTFOUND {
		t.Errorf("the refused plan was stored: %v", err)
	}
	release()
	if r := b.do(t, http.MethodPost, "/api/v1/plans", testPlan); r.status != http.StatusCreated {
		t.Fatalf("with the slot free again: %d %s", r.status, r.body)
	}
}
