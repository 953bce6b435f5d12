package policy_test

import (
	"fmt"
	"time"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// Decide answers, without allocating, what a request gets at an instant: the retired feature is
// gone under any spelling of its path, and an ambiguous spelling is refused.
func ExampleDecide() {
	p, problems := plan.Parse("sunset.yaml", []byte(`
service: {name: orders-api-v1}
milestones: {announce: 2027-01-05, deprecate: 2027-01-05, shutdown: 2027-03-15}
features: [{name: reports, routes: ["GET /v1/reports/{id}"], gone: 2027-02-01}]
`))
	if err := problems.Err(); err != nil {
		panic(err)
	}
	pol, err := policy.Compile(p, policy.Options{})
	if err != nil {
		panic(err)
	}
	now := time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC)
	for _, path := range []string{"/v1/orders/1", "/v1/reports/1", "/V1/Reports/1/", "/v1/reports%2f1"} {
		d := policy.Decide(pol, now, policy.Request{Method: "GET", Path: path})
		answer := fmt.Sprint(d.Status)
		if d.Pass {
			answer = "forwarded as " + d.Path
		}
		fmt.Printf("%-16s %-8s %-14s %s\n", path, d.Phase, d.Feature.Name, answer)
	}
	// Output:
	// /v1/orders/1     deprecated orders-api-v1  forwarded as /v1/orders/1
	// /v1/reports/1    gone     reports        410
	// /V1/Reports/1/   gone     reports        410
	// /v1/reports%2f1  active   orders-api-v1  400
}
