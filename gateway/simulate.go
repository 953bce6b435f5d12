package gateway

import (
	"net/http"
	"strings"

	"github.com/sunsetops/sunset/policy"
)

// SimulateHeader is the request header that rehearses a phase: "Sunset-Simulate: gone" answers
// what the feature will answer once gone, today. Values: deprecated, brownout, read_only, gone,
// redirect. An unknown value is ignored.
const SimulateHeader = "Sunset-Simulate"

// SimulatedHeader marks an answer rehearsed with SimulateHeader; its value is the phase.
const SimulatedHeader = "Sunset-Simulated"

// simulated returns the phase r asks to rehearse, Active for none.
func simulated(r *http.Request) policy.Phase {
	vs := r.Header[SimulateHeader] // the name is canonical: no canonicalization per request
	if len(vs) == 0 || vs[0] == "" || len(vs[0]) > 20 {
		return policy.Active
	}
	v := vs[0]
	ph, ok := policy.ParsePhase(strings.ToLower(strings.TrimSpace(v)))
	if !ok {
		return policy.Active
	}
	return ph
}
