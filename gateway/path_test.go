package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// pathBundle is a gateway in front of a real upstream on 127.0.0.1 that records the request
// line it received, enforcing a plan at a fixed instant.
type pathBundle struct {
	front *httptest.Server
	// received gets "METHOD REQUEST-URI" of every request that reached the upstream.
	received chan string
}

// setupPaths starts an upstream and the gateway enforcing the plan YAML data at now. extra is
// inserted under service: (service.gateway options).
func setupPaths(t *testing.T, now, extra string) *pathBundle {
	t.Helper()
	data, err := examples.Files.ReadFile("api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		data = bytes.Replace(data, []byte("service:\n"), []byte("service:\n  "+extra+"\n"), 1)
	}
	p, problems := plan.Parse("api-v2.yaml", data)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Compile(p, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &pathBundle{received: make(chan string, 100)}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.received <- r.Method + " " + r.RequestURI
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(upstream.Close)
	gw := New(pol, Options{Clock: sunset.NewFixedClock(at(now)), Usage: NewUsage(), Metrics: NewMetrics()})
	u, _ := url.Parse(upstream.URL)
	b.front = httptest.NewServer(gw.Wrap(NewProxy(u, ProxyOptions{Timeout: time.Second})))
	t.Cleanup(b.front.Close)
	return b
}

// raw sends method and target exactly as written (no client-side cleaning) and returns the
// response with its body read, and what the upstream received ("" for nothing).
func (b *pathBundle) raw(t *testing.T, method, target string, headers ...string) (*http.Response, string, string) {
	t.Helper()
	addr := strings.TrimPrefix(b.front.URL, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := method + " " + target + " HTTP/1.1\r\nHost: api.example.com\r\nX-API-Key: c-1\r\nConnection: close\r\n"
	for i := 0; i+1 < len(headers); i += 2 {
		req += headers[i] + ": " + headers[i+1] + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := ""
	select {
	case got = <-b.received:
	default:
	}
	return resp, string(body), got
}

// pathCase is one spelling and the answer it must get: a status, and for 200 the request line
// the upstream must have received (the canonical path).
type pathCase struct {
	method, target string
	status         int
	forwarded      string
}

func (b *pathBundle) check(t *testing.T, cases []pathCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			resp, body, got := b.raw(t, tc.method, tc.target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if got != tc.forwarded {
				t.Errorf("upstream received %q, want %q", got, tc.forwarded)
			}
			switch tc.status {
			case http.StatusBadRequest:
				if !strings.Contains(body, `"phase":"path"`) || resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("400 without its problem: %s %s", resp.Header.Get("Content-Type"), body)
				}
			case http.StatusGone:
				if !strings.Contains(body, `"feature":"reports"`) {
					t.Errorf("410 not for reports: %s", body)
				}
			case http.StatusMethodNotAllowed:
				if resp.Header.Get("Allow") == "" || !strings.Contains(body, `"phase":"method"`) {
					t.Errorf("405 without Allow or problem: %v %s", resp.Header, body)
				}
			}
		})
	}
}

// hostileSpellings are the spellings of examples/api-v2.yaml's routes an attacker tried once
// reports is gone (2027-02-02), and what each gets now. docs/gateway.md shows this table.
var hostileSpellings = []pathCase{
	{"GET", "/v1/reports/1", 410, ""},
	{"GET", "/v1/reports/1/", 410, ""},
	{"GET", "/V1/reports/1", 410, ""},
	{"GET", "/v1/REPORTS/1", 410, ""},
	{"GET", "/v1/reports%2f1", 400, ""},
	{"GET", "/v1/reports%2F1", 400, ""},
	{"GET", "/v1/orders/%2e%2e/reports/1", 400, ""},
	{"GET", "/v1/orders/.%2E/reports/1", 400, ""},
	{"GET", "/v1/orders/..%2freports/1", 400, ""},
	{"GET", "/v1/orders/..%5creports/1", 400, ""},
	{"GET", `/v1/orders/..\reports/1`, 400, ""},
	{"GET", "/v1/reports;x=1/1", 410, ""},
	{"GET", "/v1/reports/1;jsessionid=A1", 410, ""},
	{"GET", "/v1/reports%3bx=1/1", 400, ""},
	{"GET", "/v1/reports%252f1", 400, ""},
	{"GET", "/v1/report%C5%BF/1", 400, ""},
	{"GET", "/v1/reports/1%00", 400, ""},
	{"POST", "/v1/reports/", 410, ""},
	{"DELETE", "/v1/reports/1", 410, ""},
	{"POST", "/V1/Reports", 410, ""},
	{"GET", "/v1//reports/1", 410, ""},
	{"GET", "/v1/reports//../1", 400, ""},
	{"GET", "/v1/./reports/1", 410, ""},
	{"GET", "/v1/orders/../reports/1", 410, ""},
	{"GET", "/v1/orders/..;/reports/1", 400, ""},
	{"GET", "/v1/%72eports/1", 410, ""},
	{"GET", "/v1/orders/1", 200, "GET /v1/orders/1"},
	{"GET", "/V1/Orders/1", 200, "GET /V1/Orders/1"},
	{"GET", "/v1//orders/./1;v=2", 200, "GET /v1/orders/1"},
	{"GET", "/v1/%6Frders/%c3%a9", 200, "GET /v1/orders/%C3%A9"},
	{"GET", "/v1/x/../orders/1/", 200, "GET /v1/orders/1/"},
	{"GET", "/v1/orders/1?q=a%2fb", 200, "GET /v1/orders/1?q=a%2fb"},
	{"BREW", "/v1/orders/1", 405, ""},
	{"PROPFIND", "/v1/orders/1", 405, ""},
	{"get", "/v1/orders/1", 405, ""},
}

func TestHostileSpellingsOfAGoneRouteAreNeverForwarded(t *testing.T) {
	b := setupPaths(t, "2027-02-02T00:00", "")
	b.check(t, hostileSpellings)
}

func TestPlanOptionsChangeHowPathsAndMethodsAreRead(t *testing.T) {
	t.Run("case-sensitive paths", func(t *testing.T) {
		b := setupPaths(t, "2027-02-02T00:00", "gateway: {case_sensitive_paths: true}")
		b.check(t, []pathCase{
			{"GET", "/v1/reports/1", 410, ""},
			{"GET", "/v1/REPORTS/1", 200, "GET /v1/REPORTS/1"},
			{"GET", "/v1/report%C5%BF/1", 200, "GET /v1/report%C5%BF/1"},
		})
	})
	t.Run("ambiguous paths allowed", func(t *testing.T) {
		b := setupPaths(t, "2027-02-02T00:00", "gateway: {allow_ambiguous_paths: true}")
		b.check(t, []pathCase{
			{"GET", "/v1/reports%2f1", 200, "GET /v1/reports%2F1"},
			{"GET", "/v1/orders/%2e%2e/reports/1", 410, ""},
			{"GET", "/v1/orders/..%2freports/1", 200, "GET /v1/orders/..%2Freports/1"},
			{"GET", "/v1/reports/1%00", 400, ""},
		})
	})
	t.Run("extra methods", func(t *testing.T) {
		b := setupPaths(t, "2027-02-02T00:00", "gateway: {methods: [PROPFIND, MKCOL]}")
		b.check(t, []pathCase{
			{"PROPFIND", "/v1/orders/1", 200, "PROPFIND /v1/orders/1"},
			{"PROPFIND", "/v1/REPORTS/1", 410, ""},
			{"BREW", "/v1/orders/1", 405, ""},
		})
		resp, _, _ := b.raw(t, "BREW", "/v1/orders/1")
		if got, want := resp.Header.Get("Allow"), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, PROPFIND, MKCOL"; got != want {
			t.Errorf("Allow %q, want %q", got, want)
		}
	})
}

func TestAmbiguousPathAnswersInTheReadersLanguage(t *testing.T) {
	b := setupPaths(t, "2027-01-01T00:00", "") // before any phase: refused all the same
	resp, body, got := b.raw(t, "GET", "/v1/orders/..%2freports/1", "Accept", "text/html", "Accept-Language", "zh-CN,zh;q=0.9")
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		resp.Header.Get("Content-Language") != "zh" || !strings.Contains(body, "请求路径有歧义") || got != "" {
		t.Errorf("zh page: %d %v %s (upstream got %q)", resp.StatusCode, resp.Header, body, got)
	}
	resp, body, _ = b.raw(t, "GET", "/v1/orders/..%2freports/1", "Accept", "text/html")
	if resp.StatusCode != 400 || !strings.Contains(body, "Ambiguous request path") {
		t.Errorf("en page: %d %s", resp.StatusCode, body)
	}
	resp, body, _ = b.raw(t, "GET", "/v1/orders/..%2freports/1")
	if resp.StatusCode != 400 || !strings.Contains(body, `"type":"`+ProblemTypeBase+`path"`) || !strings.Contains(body, `"title":"Ambiguous request path"`) {
		t.Errorf("problem: %d %s", resp.StatusCode, body)
	}
}
