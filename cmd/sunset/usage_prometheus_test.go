package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakePrometheus answers query_range like Prometheus: two series (route, client, method) with
// one sample per step between start and end, and records the last query's parameters.
func fakePrometheus(t *testing.T, got *map[string]string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query_range" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		*got = map[string]string{"query": r.Form.Get("query"), "start": r.Form.Get("start"), "end": r.Form.Get("end"), "step": r.Form.Get("step")}
		if strings.Contains(r.Form.Get("query"), "(") && !strings.Contains(r.Form.Get("query"), ")") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"1:9: parse error: unclosed left parenthesis"}`)
			return
		}
		var start, end, step float64
		fmt.Sscan(r.Form.Get("start"), &start)
		fmt.Sscan(r.Form.Get("end"), &end)
		fmt.Sscan(r.Form.Get("step"), &step)
		var reports, orders [][2]any
		for ts := start; ts <= end; ts += step {
			reports = append(reports, [2]any{ts, "5"})
			orders = append(orders, [2]any{ts, "2"})
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": []any{
			map[string]any{"metric": map[string]string{"route": "/v1/reports/7", "client": "acme-prod", "method": "GET"}, "values": reports},
			map[string]any{"metric": map[string]string{"route": "/v1/orders/1", "client": "globex-7f3a", "method": "GET"}, "values": orders},
		}}})
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestUsageAnalyzeReadsPrometheusInsteadOfLogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var got map[string]string
	prom := fakePrometheus(t, &got)
	const query = `sum by (route, client, method) (increase(http_requests_total[1h]))`

	t.Run("one sample per step over --since, ending at --now", func(t *testing.T) {
		code, out, errs := run(t, ctx, "--now", "2027-01-08T00:00:00Z", "usage", "analyze", "--plan", "../../examples/api-v2.yaml",
			"--prometheus", prom.URL, "--query", query, "--step", "1h", "--since", "2d", "--method-label", "method", "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		end := time.Date(2027, 1, 8, 0, 0, 0, 0, time.UTC).Unix()
		if got["query"] != query || got["step"] != "3600" || got["end"] != fmt.Sprintf("%d.000", end) || got["start"] != fmt.Sprintf("%d.000", end-2*86400) {
			t.Errorf("query_range parameters = %v", got)
		}
		var res struct {
			Requests  int64  `json:"requests"`
			Consumers int64  `json:"consumers"`
			Identity  string `json:"identity"`
			Inputs    []struct {
				Name, Format string
			} `json:"inputs"`
			Features []struct {
				Name      string `json:"name"`
				Requests  int64  `json:"requests"`
				Consumers int64  `json:"consumers"`
			} `json:"features"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		// 49 hourly samples (both ends included) of 5 and 2 requests.
		if res.Requests != 49*7 || res.Consumers != 2 || res.Identity != "field:client" || res.Inputs[0].Format != "prometheus" {
			t.Errorf("requests %d consumers %d identity %q inputs %+v; want 343, 2, field:client, prometheus", res.Requests, res.Consumers, res.Identity, res.Inputs)
		}
		for _, f := range res.Features {
			if f.Name == "reports" && (f.Requests != 49*5 || f.Consumers != 1) {
				t.Errorf("reports = %+v, want 245 requests from 1 consumer", f)
			}
		}
	})

	t.Run("Prometheus's reason for a bad query is shown", func(t *testing.T) {
		code, _, errs := run(t, ctx, "usage", "analyze", "--prometheus", prom.URL, "--query", "sum by (")
		if code != 1 || !strings.Contains(errs, "bad_data") {
			t.Errorf("exit %d: %s", code, errs)
		}
	})

	for name, args := range map[string][]string{
		"no logs and no --prometheus":  {},
		"logs and --prometheus":        {"--prometheus", prom.URL, "--query", query, "access.log"},
		"--prometheus without --query": {"--prometheus", prom.URL},
		"a --step that is no duration": {"--prometheus", prom.URL, "--query", query, "--step", "hourly"},
		"--since shorter than --step":  {"--prometheus", prom.URL, "--query", query, "--step", "1h", "--since", "30m"},
		"a URL without a scheme":       {"--prometheus", "localhost:9090", "--query", query},
	} {
		t.Run(name+" is a usage error", func(t *testing.T) {
			code, _, errs := run(t, ctx, append([]string{"usage", "analyze"}, args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2: %s", code, errs)
			}
		})
	}
}
