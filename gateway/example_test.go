package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/gateway"
	"github.com/sunsetops/sunset/plan"
)

// A Go service can enforce its own sunset plan by wrapping its handler.
func ExampleMiddleware() {
	p, problems := plan.Parse("sunset.yaml", []byte(`
service: {name: orders-api-v1, docs: "https://example.com/sunset"}
alternatives: [{name: Orders API v2, url: "https://example.com/v2"}]
milestones: {announce: 2027-01-05, deprecate: 2027-01-05, shutdown: 2027-03-15}
features: [{name: reports, routes: ["GET /v1/reports/{id}"], gone: 2027-02-01}]
`))
	if err := problems.Err(); err != nil {
		panic(err)
	}
	clock := sunset.NewFixedClock(time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC))
	wrap, err := gateway.Middleware(p, gateway.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	h := wrap(app)

	for _, path := range []string{"/v1/orders/1", "/v1/reports/1"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Deprecation"), rec.Header().Get("Sunset"))
	}
	// Output:
	// /v1/orders/1 200 @1799107200 Mon, 15 Mar 2027 00:00:00 GMT
	// /v1/reports/1 410 @1799107200 Mon, 01 Feb 2027 00:00:00 GMT
}
