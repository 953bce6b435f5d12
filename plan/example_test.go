package plan_test

import (
	"fmt"

	"github.com/sunsetops/sunset/plan"
)

// Parse reports every problem of a plan at once, each at its place in the file.
func ExampleParse() {
	_, problems := plan.Parse("sunset.yaml", []byte(`
service: {name: orders-api-v1, timezone: Mars/Olympus}
milestones: {announce: 2027-01-05, shutdown: 2027-03-15}
`))
	for _, p := range problems.Errors() {
		fmt.Println(p)
	}
	// Output:
	// sunset.yaml:2:42: service.timezone: unknown time zone "Mars/Olympus"; use an IANA name such as UTC, Europe/Berlin or Asia/Shanghai
}
