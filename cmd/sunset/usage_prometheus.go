package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/usage"
)

// usagePromFlags are the flags of `usage analyze --prometheus`.
type usagePromFlags struct {
	url, query, step, since                string
	routeLabel, consumerLabel, methodLabel string
}

func (p *usagePromFlags) add(f *pflag.FlagSet) {
	f.StringVar(&p.url, "prometheus", "", "read requests from this Prometheus server's query API instead of logs")
	f.StringVar(&p.query, "query", "", "with --prometheus: PromQL giving requests per step by route and consumer")
	f.StringVar(&p.step, "step", "1h", "with --prometheus: the query's resolution (each sample counts the requests of one step)")
	f.StringVar(&p.since, "since", "7d", "with --prometheus: how far back the query reaches")
	f.StringVar(&p.routeLabel, "route-label", "route", "with --prometheus: the label holding the route or path")
	f.StringVar(&p.consumerLabel, "consumer-label", "client", "with --prometheus: the label naming the consumer")
	f.StringVar(&p.methodLabel, "method-label", "", "with --prometheus: the label holding the request method, for feature routes with a method")
}

// prometheusQuery checks the --prometheus flags and returns the range query they describe,
// ending now (the --now clock).
func (m *Main) prometheusQuery(p *usagePromFlags) (usage.Prometheus, error) {
	if strings.TrimSpace(p.query) == "" {
		return usage.Prometheus{}, &exitError{code: 2, msg: "--prometheus needs --query PROMQL, e.g. 'sum by (route, client) (increase(http_requests_total[1h]))'"}
	}
	if !strings.HasPrefix(p.url, "http://") && !strings.HasPrefix(p.url, "https://") {
		return usage.Prometheus{}, &exitError{code: 2, msg: fmt.Sprintf("--prometheus %q: use the server's http:// or https:// URL", p.url)}
	}
	step, err := parseSpan(p.step)
	if err != nil {
		return usage.Prometheus{}, &exitError{code: 2, msg: fmt.Sprintf("--step %q: use a duration such as 1h or 5m", p.step)}
	}
	since, err := parseSpan(p.since)
	if err != nil {
		return usage.Prometheus{}, &exitError{code: 2, msg: fmt.Sprintf("--since %q: use a duration such as 7d or 36h", p.since)}
	}
	if since < step {
		return usage.Prometheus{}, &exitError{code: 2, msg: fmt.Sprintf("--since %s is shorter than --step %s", p.since, p.step)}
	}
	clock, err := m.clock()
	if err != nil {
		return usage.Prometheus{}, err
	}
	end := clock.Now()
	return usage.Prometheus{
		URL: strings.TrimRight(p.url, "/"), Query: p.query,
		RouteLabel: p.routeLabel, ConsumerLabel: p.consumerLabel, MethodLabel: p.methodLabel,
		Start: end.Add(-since), End: end, Step: step,
		Client: &http.Client{Timeout: 2 * time.Minute},
	}, nil
}

// parseSpan reads a positive duration in Go's form (90m) or the plan's (7d).
func parseSpan(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		// The plan's durations also accept days and weeks.
		if d, err = plan.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("not positive")
	}
	return d, nil
}
