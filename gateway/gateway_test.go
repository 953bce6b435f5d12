package gateway

import (
	"bufio"
	"encoding/json"
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

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at reads a wall time of the example plan's zone.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// testBundle is a gateway proxying to a real upstream on 127.0.0.1, on a fixed clock.
type testBundle struct {
	clock    *sunset.FixedClock
	gw       *Gateway
	usage    *Usage
	upstream *httptest.Server
	front    *httptest.Server
	// hits counts the requests that reached the upstream.
	hits chan string
}

func examplePlan(t testing.TB) *plan.Plan {
	t.Helper()
	data, err := examples.Files.ReadFile("api-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, problems := plan.Parse("api-v2.yaml", data)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

// setup starts an upstream that answers "upstream METHOD PATH" (or what handler says) and the
// gateway in front of it, enforcing the example plan at now.
func setup(t *testing.T, now string, handler http.Handler) *testBundle {
	t.Helper()
	b := &testBundle{clock: sunset.NewFixedClock(at(now)), usage: NewUsage(), hits: make(chan string, 100)}
	if handler == nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "upstream "+r.Method+" "+r.URL.Path)
		})
	}
	b.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case b.hits <- r.Method + " " + r.URL.Path:
		default:
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(b.upstream.Close)
	pol, err := policy.Compile(examplePlan(t), policy.Options{Laggards: []string{"laggard"}})
	if err != nil {
		t.Fatal(err)
	}
	b.gw = New(pol, Options{Clock: b.clock, Usage: b.usage, Metrics: NewMetrics()})
	u, _ := url.Parse(b.upstream.URL)
	b.front = httptest.NewServer(b.gw.Wrap(NewProxy(u, ProxyOptions{Timeout: 300 * time.Millisecond})))
	t.Cleanup(b.front.Close)
	return b
}

// do sends a request through the gateway; headers are name, value pairs.
func (b *testBundle) do(t *testing.T, method, path string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.front.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", "c-1")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// checkSunsetHeaders asserts the Deprecation, Sunset and Link headers with the independent
// parsers of rfc_test.go.
func checkSunsetHeaders(t *testing.T, h http.Header, deprecated, sunsetAt time.Time, successor string) {
	t.Helper()
	if vs := h.Values("Deprecation"); len(vs) != 1 {
		t.Fatalf("Deprecation values %q, want one", vs)
	}
	dep, err := parseSFDate(h.Get("Deprecation"))
	if err != nil || dep != deprecated.Unix() {
		t.Errorf("Deprecation %q: %d, %v; want @%d", h.Get("Deprecation"), dep, err, deprecated.Unix())
	}
	sun, err := parseIMFFixdate(h.Get("Sunset"))
	if err != nil || !sun.Equal(sunsetAt) {
		t.Errorf("Sunset %q: %v, %v; want %v", h.Get("Sunset"), sun, err, sunsetAt.UTC())
	}
	links, err := parseLinks(h.Get("Link"))
	if err != nil {
		t.Fatalf("Link %q: %v", h.Get("Link"), err)
	}
	rels := map[string]link{}
	for _, l := range links {
		rels[l.params["rel"]] = l
	}
	if l := rels["deprecation"]; l.uri != "https://developer.example.com/orders/v2/migrate" || l.params["type"] != "text/html" {
		t.Errorf("rel=deprecation: %+v", l)
	}
	if l := rels["sunset"]; l.uri != "https://developer.example.com/orders/v1/sunset" || l.params["type"] != "text/html" {
		t.Errorf("rel=sunset: %+v", l)
	}
	if l := rels["successor-version"]; l.uri != successor {
		t.Errorf("rel=successor-version: %+v, want %s", l, successor)
	}
}

func noSunsetHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for _, k := range []string{"Deprecation", "Sunset", "Link"} {
		if v := h.Get(k); v != "" {
			t.Errorf("%s: %q before deprecation", k, v)
		}
	}
}

func TestActivePassesUntouched(t *testing.T) {
	b := setup(t, "2027-01-01T00:00", nil)
	resp, body := b.do(t, "GET", "/v1/orders/7")
	if resp.StatusCode != 200 || body != "upstream GET /v1/orders/7" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	noSunsetHeaders(t, resp.Header)
}

func TestDeprecatedAddsHeadersToEveryAnswer(t *testing.T) {
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/orders/fail" {
			http.Error(w, "boom", 500)
			return
		}
		io.WriteString(w, "ok")
	})
	b := setup(t, "2027-01-06T12:00", failing)
	for _, path := range []string{"/v1/orders/7", "/v1/orders/fail", "/v1/customers"} {
		resp, _ := b.do(t, "GET", path)
		checkSunsetHeaders(t, resp.Header, at("2027-01-05T10:00"), at("2027-03-15T02:00"), "https://api.example.com/v2/orders")
		if path == "/v1/orders/fail" && resp.StatusCode != 500 {
			t.Errorf("upstream error status %d", resp.StatusCode)
		}
	}
	t.Run("a feature's Sunset is its own gone instant", func(t *testing.T) {
		resp, _ := b.do(t, "GET", "/v1/reports/1")
		checkSunsetHeaders(t, resp.Header, at("2027-01-05T10:00"), at("2027-02-01T02:00"), "https://api.example.com/v2/orders")
	})
	t.Run("a redirected feature names its replacement as successor", func(t *testing.T) {
		resp, _ := b.do(t, "GET", "/v1/exports/1")
		checkSunsetHeaders(t, resp.Header, at("2027-01-05T10:00"), at("2027-03-01T02:00"), "https://api.example.com/v2/exports")
	})
}

func TestGoneAnswers410WithAProblem(t *testing.T) {
	b := setup(t, "2027-02-02T09:00", nil)
	resp, body := b.do(t, "GET", "/v1/reports/3")
	if resp.StatusCode != 410 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSunsetHeaders(t, resp.Header, at("2027-01-05T10:00"), at("2027-02-01T02:00"), "https://api.example.com/v2/orders")
	want := `{"type":"https://github.com/sunsetops/sunset/blob/main/docs/gateway.md#gone","title":"This API has been retired","status":410,` +
		`"detail":"Sales reports of Orders API v1 was shut down on 2027-02-01 02:00 CST. Use instead: Orders API v2 (https://api.example.com/v2/orders).",` +
		`"phase":"gone","service":"orders-api-v1","feature":"reports","sunset":"2027-01-31T18:00:00Z",` +
		`"alternatives":[{"name":"Orders API v2","url":"https://api.example.com/v2/orders","guide":"https://developer.example.com/orders/v2/migrate"}],` +
		`"docs":"https://developer.example.com/orders/v1/sunset","guide":"https://developer.example.com/orders/v2/migrate",` +
		`"feedback":"mailto:li.wei@example.com?subject=Sunset%20of%20orders-api-v1"}` + "\n"
	if body != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
	select {
	case hit := <-b.hits:
		t.Errorf("the upstream was called: %s", hit)
	default:
	}
}

func TestBrownoutAnswersWithRetryAfterAtTheWindowEnd(t *testing.T) {
	b := setup(t, "2027-03-04T14:20", nil)
	resp, body := b.do(t, "GET", "/v1/orders/1")
	if resp.StatusCode != 410 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	ra, err := parseIMFFixdate(resp.Header.Get("Retry-After"))
	if err != nil || !ra.Equal(at("2027-03-04T15:00")) {
		t.Errorf("Retry-After %q: %v %v", resp.Header.Get("Retry-After"), ra, err)
	}
	var p Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Phase != "brownout" || p.RetryAfter != "2027-03-04T07:00:00Z" {
		t.Errorf("problem %+v %v", p, err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	t.Run("exempt consumers pass", func(t *testing.T) {
		resp, _ := b.do(t, "GET", "/v1/orders/1", "X-API-Key", "acme-prod")
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestReadOnlyRefusesWritesAndServesReads(t *testing.T) {
	b := setup(t, "2027-03-01T09:00", nil)
	resp, body := b.do(t, "GET", "/v1/orders/1")
	if resp.StatusCode != 200 || body != "upstream GET /v1/orders/1" {
		t.Errorf("read: %d %q", resp.StatusCode, body)
	}
	resp, body = b.do(t, "POST", "/v1/orders/")
	var p Problem
	json.Unmarshal([]byte(body), &p)
	if resp.StatusCode != 503 || p.Type != ProblemTypeBase+"read-only" || p.Status != 503 {
		t.Errorf("write: %d %s", resp.StatusCode, body)
	}
	checkSunsetHeaders(t, resp.Header, at("2027-01-05T10:00"), at("2027-03-15T02:00"), "https://api.example.com/v2/orders")
}

func TestRedirectAnswers308ToTheReplacement(t *testing.T) {
	b := setup(t, "2027-03-02T09:00", nil)
	client := b.front.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(b.front.URL + "/v1/exports/5")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 308 || resp.Header.Get("Location") != "https://api.example.com/v2/exports" {
		t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestBrowsersGetATombstoneInTheirLanguage(t *testing.T) {
	b := setup(t, "2027-03-16T09:00", nil)
	resp, body := b.do(t, "GET", "/v1/orders/1", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
	if resp.StatusCode != 410 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Content-Language") != "zh" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Language"))
	}
	for _, want := range []string{`<html lang="zh">`, "此接口已下线", "订单 API v1 的 orders 已于 2027-03-15 02:00 CST 下线。", "迁移指南", `href="https://api.example.com/v2/orders"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "<script") {
		t.Error("the page loads external or scripted assets")
	}
	resp, body = b.do(t, "GET", "/v1/orders/1", "Accept", "text/html", "Accept-Language", "fr, en;q=0.5")
	if !strings.Contains(body, "This API has been retired") || resp.Header.Get("Content-Language") != "en" {
		t.Errorf("English page expected:\n%s", body)
	}
}

func TestSunsetSimulateRehearsesAPhase(t *testing.T) {
	b := setup(t, "2026-12-01T09:00", nil)
	resp, body := b.do(t, "GET", "/v1/orders/1", SimulateHeader, "gone")
	if resp.StatusCode != 410 || resp.Header.Get(SimulatedHeader) != "gone" || !strings.Contains(body, `"simulated":true`) {
		t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, _ = b.do(t, "GET", "/v1/orders/1", SimulateHeader, "brownout")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("brownout rehearsal: %d", resp.StatusCode)
	}
	resp, body = b.do(t, "GET", "/v1/orders/1", SimulateHeader, "no-such-phase")
	if resp.StatusCode != 200 || body != "upstream GET /v1/orders/1" {
		t.Errorf("unknown phase: %d %s", resp.StatusCode, body)
	}
	noSunsetHeaders(t, resp.Header)
}

func TestUpstreamFailuresAnswerProblems(t *testing.T) {
	t.Run("a slow upstream is a 504", func(t *testing.T) {
		release := make(chan struct{})
		b := setup(t, "2027-01-06T12:00", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer close(release)
		resp, body := b.do(t, "GET", "/v1/orders/1")
		if resp.StatusCode != 504 || !strings.Contains(body, `"phase":"upstream"`) || resp.Header.Get("Deprecation") == "" {
			t.Errorf("%d %s %v", resp.StatusCode, body, resp.Header)
		}
	})
	t.Run("a dead upstream is a 502", func(t *testing.T) {
		b := setup(t, "2027-01-06T12:00", nil)
		b.upstream.Close()
		resp, body := b.do(t, "GET", "/v1/orders/1")
		if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(body, "The service behind the gateway could not be reached") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
		// In the reader's language, as the 410 is: a Chinese browser gets the Chinese page, a
		// Chinese API client the Chinese problem.
		resp, body = b.do(t, "GET", "/v1/orders/1", "Accept", "text/html,application/xhtml+xml", "Accept-Language", "zh-CN,zh;q=0.9")
		if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			resp.Header.Get("Content-Language") != "zh" || !strings.Contains(body, `<html lang="zh">`) ||
			!strings.Contains(body, "无法连接到服务") || !strings.Contains(body, "502 Bad Gateway") {
			t.Errorf("a Chinese browser got %d %s %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Language"), body)
		}
		resp, body = b.do(t, "GET", "/v1/orders/1", "Accept-Language", "zh-CN")
		if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(body, `"title":"无法连接到服务"`) {
			t.Errorf("a Chinese API client got %d %s", resp.StatusCode, body)
		}
	})
}

func TestTimeTravelFromAnnounceToShutdown(t *testing.T) {
	b := setup(t, "2027-01-01T00:00", nil)
	steps := []struct {
		now, method, path string
		status            int
		warned            bool
	}{
		{"2027-01-05T09:59", "GET", "/v1/orders/1", 200, false},
		{"2027-01-05T10:00", "GET", "/v1/orders/1", 200, true},
		{"2027-01-31T23:00", "GET", "/v1/reports/1", 200, true},
		{"2027-02-01T02:00", "GET", "/v1/reports/1", 410, true},
		{"2027-02-16T13:59", "GET", "/v1/orders/1", 200, true},
		{"2027-02-16T14:00", "GET", "/v1/orders/1", 503, true},
		{"2027-02-16T14:15", "GET", "/v1/orders/1", 200, true},
		{"2027-03-01T01:59", "POST", "/v1/orders/", 200, true},
		{"2027-03-01T02:00", "POST", "/v1/orders/", 503, true},
		{"2027-03-01T02:00", "GET", "/v1/exports/9", 308, true},
		{"2027-03-02T14:30", "GET", "/v1/orders/1", 410, true},
		{"2027-03-02T15:00", "GET", "/v1/orders/1", 200, true},
		{"2027-03-15T01:59", "GET", "/v1/orders/1", 200, true},
		{"2027-03-15T02:00", "GET", "/v1/orders/1", 410, true},
		{"2027-03-15T02:00", "GET", "/v1/anything", 410, true},
	}
	client := b.front.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, s := range steps {
		b.clock.Set(at(s.now))
		req, _ := http.NewRequest(s.method, b.front.URL+s.path, nil)
		req.Header.Set("X-API-Key", "c-1")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != s.status || (resp.Header.Get("Deprecation") != "") != s.warned {
			t.Errorf("%s %s %s: %d (Deprecation %q), want %d warned %v", s.now, s.method, s.path, resp.StatusCode, resp.Header.Get("Deprecation"), s.status, s.warned)
		}
	}
}

// TestUsageCountsServerErrors: an answer of 500 and above from the service, or a gateway that
// cannot reach it, is counted as an error of its feature and consumer; other answers are not.
func TestUsageCountsServerErrors(t *testing.T) {
	b := setup(t, "2027-01-06T12:10", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/orders/500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/v1/orders/404":
			http.NotFound(w, r)
		default:
			io.WriteString(w, "ok")
		}
	}))
	b.do(t, "GET", "/v1/orders/1")
	b.do(t, "GET", "/v1/orders/404")
	b.do(t, "GET", "/v1/orders/500")
	b.do(t, "GET", "/v1/orders/500")
	counts, _ := b.usage.Drain()
	if len(counts) != 1 || counts[0].Count != 4 || counts[0].Errors != 2 {
		t.Fatalf("counts %+v, want 4 requests of which 2 errors", counts)
	}
	b.upstream.Close() // the gateway answers 502: an error too
	b.do(t, "GET", "/v1/orders/1")
	if counts, _ = b.usage.Drain(); len(counts) != 1 || counts[0].Count != 1 || counts[0].Errors != 1 {
		t.Errorf("counts %+v, want the unreachable upstream counted as an error", counts)
	}
}

func TestUsageCountsFeaturesConsumersAndFirstWarning(t *testing.T) {
	b := setup(t, "2027-01-06T12:10", nil)
	b.do(t, "GET", "/v1/orders/1")
	b.do(t, "GET", "/v1/orders/2")
	b.do(t, "GET", "/v1/reports/2", "X-API-Key", "c-2")
	counts, aware := b.usage.Drain()
	hour := at("2027-01-06T12:00").UTC()
	last := at("2027-01-06T12:10").UTC() // the latest request's instant, not the hour
	want := []Count{{Feature: "orders", Consumer: "c-1", Hour: hour, Count: 2, LastAt: last}, {Feature: "reports", Consumer: "c-2", Hour: hour, Count: 1, LastAt: last}}
	if len(counts) != 2 || counts[0] != want[0] || counts[1] != want[1] {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	if len(aware) != 2 || aware[0].Consumer != "c-1" || !aware[0].FirstSeen.Equal(at("2027-01-06T12:10")) {
		t.Errorf("aware %+v", aware)
	}
	b.do(t, "GET", "/v1/orders/1")
	if _, aware := b.usage.Drain(); len(aware) != 0 {
		t.Errorf("a consumer told twice: %+v", aware)
	}
}

func TestConnectAndTraceAreRefusedOnTheWire(t *testing.T) {
	b := setup(t, "2027-01-06T12:00", nil)
	addr := strings.TrimPrefix(b.front.URL, "http://")
	for _, req := range []string{
		"CONNECT internal.example.com:443 HTTP/1.1\r\nHost: internal.example.com:443\r\n\r\n",
		"TRACE /v1/orders/1 HTTP/1.1\r\nHost: " + addr + "\r\nX-API-Key: c-1\r\nAccept-Language: zh-CN\r\n\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		method := strings.Fields(req)[0]
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" ||
			!strings.Contains(string(body), `"phase":"method"`) {
			t.Errorf("%s: %d %v %s", method, resp.StatusCode, resp.Header, body)
		}
		if method == "TRACE" && !strings.Contains(string(body), "不允许的请求方法") {
			t.Errorf("TRACE from a Chinese client: %s", body)
		}
	}
	if n := len(b.hits); n != 0 {
		t.Errorf("the upstream got %d requests, want none", n)
	}
}
