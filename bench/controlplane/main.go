// Command controlplane measures what one control plane (`sunset serve`) sustains: users'
// feedback submissions and gateways' usage counter flushes per second, with p50 and p99
// latencies, against a real server process on 127.0.0.1 over SQLite or PostgreSQL. Beside each
// workload it measures the ceiling: the same requests from the same load generator to a bare Go
// HTTP server that decodes them and answers without storing anything, so the ratio says what the
// storage costs on this machine. bench/controlplane.sh runs it.
//
// Feedback is rate-limited per client address (10 a minute), as it must be in production; the
// generator posts each submission from its own loopback source address (127.1.0.0/16), as many
// users would. The per-sunset limit (60 a minute by default) is lifted with
// --feedback-per-minute.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sunsetops/sunset/bench/internal/benchdb"
	"github.com/sunsetops/sunset/bench/internal/benchserve"
)

const planYAML = `service: {name: bench-cp, timezone: UTC}
milestones: {announce: 2027-01-05T10:00, deprecate: 2027-01-05T10:00, shutdown: 2027-03-15T02:00}
features:
  - {name: reports, routes: ["GET /v1/reports/{id}"], gone: 2027-02-01T02:00}
`

func main() {
	bin := flag.String("bin", "", "the sunset binary")
	db := flag.String("db", "sqlite", "sqlite, or a postgres:// URL")
	dur := flag.Duration("duration", 5*time.Second, "how long each workload runs")
	feedbackConc := flag.Int("feedback-clients", 32, "users submitting feedback at once")
	flushConc := flag.Int("flush-clients", 256, "gateways flushing at once (a fleet)")
	header := flag.Bool("header", false, "print the table header")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required")
	}
	dir, err := os.MkdirTemp("", "sunset-bench-cp")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn, backend := "sqlite:"+filepath.Join(dir, "sunset.db"), "sqlite"
	if *db != "sqlite" {
		backend = "postgres"
		var drop func()
		if dsn, drop, err = benchdb.FreshSchema(context.Background(), *db, "sunset_bench"); err != nil {
			log.Fatal(err)
		}
		defer drop()
	}
	srv, err := startServer(*bin, dsn, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	base := srv.URL + "/api/v1/sunsets/bench-cp"

	ceiling := startCeiling()
	defer ceiling.Close()

	if *header {
		fmt.Printf("%-9s %-9s %7s %8s %9s %8s %8s %7s %8s %s\n", "backend", "workload", "clients", "target", "req/s", "p50", "p99", "errors", "ceiling", "met")
	}
	for _, w := range []struct {
		name    string
		target  float64
		path    string
		gen     func() generator
		clients int
	}{
		{"feedback", 500, "/feedback", newFeedback, *feedbackConc},
		{"flush", 5000, "/usage", newFlush, *flushConc},
	} {
		got := load(base+w.path, w.gen(), w.clients, *dur)
		ref := load(ceiling.URL+"/"+w.name, w.gen(), w.clients, *dur)
		met := "yes"
		if got.rate < w.target {
			met = "NO"
		}
		fmt.Printf("%-9s %-9s %7d %8.0f %9.0f %8s %8s %7d %7.0f%% %s\n", backend, w.name, w.clients, w.target, got.rate,
			ms(got.p50), ms(got.p99), got.errors, 100*got.rate/ref.rate, met)
		if got.firstErr != "" {
			fmt.Fprintf(os.Stderr, "  first error (%s): %s\n", w.name, got.firstErr)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// startServer starts `sunset serve` on dsn and applies the bench's plan to it.
func startServer(bin, dsn, dir string) (*benchserve.Server, error) {
	// The per-sunset feedback limit is lifted: the bench measures what storage sustains.
	s, err := benchserve.Start(bin, dsn, "", dir, "--log-level", "warn", "--feedback-per-minute", "100000000")
	if err != nil {
		return nil, err
	}
	plan := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(plan, []byte(planYAML), 0o644); err != nil {
		s.Stop()
		return nil, err
	}
	if out, err := exec.Command(bin, "apply", plan, "--server", s.URL).CombinedOutput(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("apply: %v\n%s", err, out)
	}
	// Feedback is public only once the sunset is announced: the announce action, already due
	// at the pinned clock, runs a moment after apply.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if status, err := http.Get(s.URL + "/p/bench-cp"); err == nil {
			status.Body.Close()
			if status.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("bench-cp was not announced within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startCeiling starts the bare server: it decodes each JSON body and answers as the real one
// does, storing nothing.
func startCeiling() *httptestServer {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{kind}", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"applied":true}`)
	})
	return newHTTPTestServer(mux)
}

// httptestServer is a minimal net/http server on 127.0.0.1 (net/http/httptest is for tests).
type httptestServer struct {
	URL string
	srv *http.Server
}

func newHTTPTestServer(h http.Handler) *httptestServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s := &httptestServer{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h}}
	go s.srv.Serve(ln)
	return s
}

// Close stops the server.
func (s *httptestServer) Close() { s.srv.Close() }

// generator makes the requests of one workload. Each client has its own; body returns the next
// request body of client c and the HTTP client to send it with.
type generator interface {
	next(c int) ([]byte, *http.Client)
}

// feedbackGen posts one submission per loopback source address, never more than the server's
// per-address limit allows.
type feedbackGen struct {
	addr atomic.Int64
}

func newFeedback() generator { return &feedbackGen{} }

var moods = []string{"negative", "neutral", "positive"}

func (g *feedbackGen) next(c int) ([]byte, *http.Client) {
	n := g.addr.Add(1)
	src := net.IPv4(127, byte(1+n>>16), byte(n>>8), byte(n))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	body, _ := json.Marshal(map[string]any{
		"mood": moods[n%3], "text": fmt.Sprintf("Submission %d: the v2 reports endpoint paginates differently; 请保留导出功能。", n),
		"consumer": fmt.Sprintf("c-%d", n%200), "locale": "en",
	})
	return body, client
}

// flushGen is a fleet of gateways: client c is gateway bench-gw-c, each flush its next sequence
// number carrying a few hourly counts and one first warning.
type flushGen struct {
	mu     sync.Mutex
	seq    map[int]int64
	client *http.Client
}

func newFlush() generator {
	return &flushGen{seq: map[int]int64{}, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
}

func (g *flushGen) next(c int) ([]byte, *http.Client) {
	g.mu.Lock()
	g.seq[c]++
	seq := g.seq[c]
	g.mu.Unlock()
	hour := time.Date(2027, 1, 6, int(seq%24), 0, 0, 0, time.UTC)
	counts := make([]map[string]any, 0, 4)
	for i := range 4 {
		counts = append(counts, map[string]any{"feature": []string{"reports", "orders"}[i%2],
			"consumer": fmt.Sprintf("c-%d", (int(seq)+i)%50), "hour": hour, "count": 1 + i})
	}
	body, _ := json.Marshal(map[string]any{"gateway": fmt.Sprintf("bench-gw-%d", c), "seq": seq, "counts": counts,
		"aware": []map[string]any{{"consumer": fmt.Sprintf("c-%d", seq%50), "first_seen": hour.Add(time.Minute)}}})
	return body, g.client
}

// result is one workload's measurement.
type result struct {
	rate     float64
	p50, p99 time.Duration
	errors   int
	firstErr string
}

// load posts to url from conc clients for d and measures the answers.
func load(url string, g generator, conc int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var res result
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conc {
		wg.Go(func() {
			var mine []time.Duration
			errs, first := 0, ""
			for ctx.Err() == nil {
				body, client := g.next(c)
				t0 := time.Now()
				err := post(client, url, body)
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	res.rate = float64(len(lat)) / elapsed.Seconds()
	return res
}

func post(client *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok := os.Getenv("SUNSET_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
