package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Prometheus reads request counts from a Prometheus server's HTTP API (query_range) where
// there are no access logs. The query must return one series per route and consumer whose
// values are request counts per step, for example
//
//	sum by (route, client) (increase(http_requests_total[1h]))
//
// with Step 1h. RouteLabel and ConsumerLabel name the labels that carry the route (used as the
// endpoint path and matched against the plan's features) and the consumer.
type Prometheus struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:9090.
	URL           string
	Query         string
	RouteLabel    string
	ConsumerLabel string
	// MethodLabel, when set, carries the request method for feature matching.
	MethodLabel string
	Start, End  time.Time
	Step        time.Duration
	// Client is the HTTP client (http.DefaultClient when nil).
	Client *http.Client
}

// PromSeries is one series of a query_range answer.
type PromSeries struct {
	Labels map[string]string
	Points []PromPoint
}

// PromPoint is one sample.
type PromPoint struct {
	Time  time.Time
	Value float64
}

// QueryRange runs the range query and returns its series.
func (p Prometheus) QueryRange(ctx context.Context) ([]PromSeries, error) {
	if p.Step <= 0 {
		return nil, fmt.Errorf("prometheus: the step must be positive")
	}
	q := url.Values{}
	q.Set("query", p.Query)
	q.Set("start", strconv.FormatFloat(float64(p.Start.UnixMilli())/1000, 'f', 3, 64))
	q.Set("end", strconv.FormatFloat(float64(p.End.UnixMilli())/1000, 'f', 3, 64))
	q.Set("step", strconv.FormatFloat(p.Step.Seconds(), 'f', -1, 64))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/api/v1/query_range", nil)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %v", err)
	}
	req.URL.RawQuery = q.Encode()
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("prometheus: %v", err)
	}
	var ans struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("prometheus: %s: answer is not the query API's JSON (HTTP %d)", p.URL, resp.StatusCode)
	}
	if ans.Status != "success" {
		return nil, fmt.Errorf("prometheus: %s: %s", ans.ErrorType, ans.Error)
	}
	if ans.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus: query_range answered a %s, want a matrix", ans.Data.ResultType)
	}
	var out []PromSeries
	for _, r := range ans.Data.Result {
		s := PromSeries{Labels: r.Metric}
		for _, v := range r.Values {
			ts, ok1 := v[0].(float64)
			vs, ok2 := v[1].(string)
			f, err := strconv.ParseFloat(vs, 64)
			if !ok1 || !ok2 || err != nil {
				return nil, fmt.Errorf("prometheus: bad sample %v", v)
			}
			sec, frac := math.Modf(ts)
			s.Points = append(s.Points, PromPoint{Time: time.Unix(int64(sec), int64(frac*1e9)), Value: f})
		}
		out = append(out, s)
	}
	return out, nil
}

// AnalyzePrometheus answers the usage questions from a Prometheus range query instead of logs:
// each sample adds round(value) requests at its instant for its route and consumer. Lines and
// Parsed count requests; samples that are not finite or are negative are malformed.
func AnalyzePrometheus(ctx context.Context, p Prometheus, opts Options) (*Result, error) {
	series, err := p.QueryRange(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	w := &worker{a: newAggregate(len(opts.Features)), id: opts.Identity, loc: opts.Location, howQuarter: -1 << 62, hourly: opts.Hourly}
	if len(opts.Features) > 0 {
		if w.match, err = newFeatureMatcher(opts.Features); err != nil {
			return nil, err
		}
	}
	for _, s := range series {
		route := s.Labels[p.RouteLabel]
		if route == "" {
			route = "-"
		}
		consumer := s.Labels[p.ConsumerLabel]
		if consumer == "" {
			consumer = "-"
		}
		method := s.Labels[p.MethodLabel]
		for _, pt := range s.Points {
			if math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) || pt.Value < 0 {
				w.a.lines++
				w.a.malformed++
				w.a.reasons["sample is not a finite non-negative count"]++
				continue
			}
			n := int64(math.Round(pt.Value))
			if n == 0 {
				continue
			}
			r := Record{Host: []byte(consumer), ID: []byte(consumer), Path: []byte(route), Method: []byte(method), Unix: pt.Time.Unix()}
			w.a.lines += n
			w.addN(&r, n)
		}
	}
	in := []inputState{{name: p.URL, format: "prometheus"}}
	return w.a.result(in, &opts), nil
}
