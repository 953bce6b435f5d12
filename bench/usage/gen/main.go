// Command gen writes a synthetic Apache combined access log for benchmarks: about 50,000
// client IPs with a heavy-tailed share of traffic, API and page paths with query strings, long
// user agents, a daily and weekly rhythm (busy weekday afternoons, quiet weekend nights), and a
// few malformed lines (about one in 100,000). The output is deterministic for a given -seed.
//
//	go run ./bench/usage/gen -size 1GB -o /tmp/access.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	size := flag.String("size", "1GB", "approximate output size (e.g. 200MB, 1GB)")
	out := flag.String("o", "-", "output file, - for stdout")
	ips := flag.Int("ips", 50000, "distinct client IPs")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	limit, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
	w := os.Stdout
	if *out != "-" {
		if w, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		defer w.Close()
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	defer bw.Flush()
	rng := rand.New(rand.NewPCG(*seed, 2))

	clients := make([]string, *ips)
	for i := range clients {
		clients[i] = fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(222), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	}
	// Zipf-like popularity: a few clients make much of the traffic.
	zipf := rand.NewZipf(rand.New(rand.NewPCG(*seed, 3)), 1.1, 8, uint64(len(clients)-1))
	start := time.Date(2027, 1, 4, 0, 0, 0, 0, time.FixedZone("", 8*3600)) // a Monday, +0800
	var written int64
	var buf []byte
	t := start
	n := 0
	for written < limit {
		n++
		// About 120 requests a second at peak.
		t = t.Add(time.Duration(float64(time.Second) / (120 * weight(t)) * rng.ExpFloat64()))
		buf = buf[:0]
		if n%100000 == 0 {
			buf = appendMalformed(buf, rng, clients)
		}
		buf = appendLine(buf, rng, clients[zipf.Uint64()], t)
		bw.Write(buf)
		written += int64(len(buf))
	}
}

// The vocabulary of the lines, picked from at random.
var (
	paths = []string{"/v1/orders", "/v1/orders/%d", "/v1/orders/%d/items", "/v1/reports/%d", "/v1/reports", "/v1/exports/%d",
		"/v1/customers/%d", "/", "/static/app.js", "/static/style.css", "/images/logo.png", "/blog/%d-notes", "/search", "/login", "/favicon.ico"}
	queries = []string{"", "", "", "?page=%d", "?q=shoes&sort=price&page=%d", "?utm_source=newsletter&utm_medium=email&utm_campaign=spring%d", "?fmt=csv&from=2027-01-01&to=2027-01-%02d"}
	agents  = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
		"orders-sdk-java/3.14.2 (Linux; OpenJDK 64-Bit Server VM 21.0.3+9-LTS; amd64) okhttp/4.12.0 retry/3 region/eu-central-1",
		"python-requests/2.31.0 CPython/3.12.3 Linux/6.8.0-31-generic acme-billing-sync/1.4.7 (+https://acme.example.com/bots)",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"curl/8.7.1",
	}
	methods  = []string{"GET", "GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"}
	statuses = []int{200, 200, 200, 200, 200, 200, 304, 301, 404, 500, 201}
	referers = []string{"-", "-", "https://www.example.com/", "https://www.google.com/search?q=orders+api", "https://app.example.com/dashboard?tab=orders"}
)

// weight is the rhythm of traffic: the mean gap between requests follows the hour of day and
// the day of week.
func weight(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	day := 0.15 + 0.85*math.Pow(math.Sin(math.Pi*(h-3)/24), 4) // trough near 03:00, peak near 15:00
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		day *= 0.35
	}
	return day
}

// appendMalformed appends one of the malformed lines: bytes of a TLS handshake, an impossible
// timestamp, or a truncated line.
func appendMalformed(buf []byte, rng *rand.Rand, clients []string) []byte {
	switch rng.IntN(3) {
	case 0:
		return append(buf, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage from a TLS handshake\n"...)
	case 1:
		return append(buf, clients[0]+` - - [31/Feb/2027:25:00:00 +0800] "GET / HTTP/1.1" 200 1 "-" "-"`+"\n"...)
	default:
		return append(buf, clients[1]+` - - [04/Jan/2027:10:0`+"\n"...)
	}
}

// appendLine appends a combined-format line of client c at t, its request, status, size,
// referer and user agent drawn from rng.
func appendLine(buf []byte, rng *rand.Rand, c string, t time.Time) []byte {
	p := paths[rng.IntN(len(paths))]
	if strings.Contains(p, "%d") {
		p = fmt.Sprintf(p, rng.IntN(5000))
	}
	if q := queries[rng.IntN(len(queries))]; q != "" {
		p += fmt.Sprintf(q, 1+rng.IntN(28))
	}
	buf = append(buf, c...)
	buf = append(buf, " - - ["...)
	buf = t.AppendFormat(buf, "02/Jan/2006:15:04:05 -0700")
	buf = append(buf, "] \""...)
	buf = append(buf, methods[rng.IntN(len(methods))]...)
	buf = append(buf, ' ')
	buf = append(buf, p...)
	buf = append(buf, " HTTP/1.1\" "...)
	buf = strconv.AppendInt(buf, int64(statuses[rng.IntN(len(statuses))]), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(rng.IntN(200000)), 10)
	buf = append(buf, " \""...)
	buf = append(buf, referers[rng.IntN(len(referers))]...)
	buf = append(buf, "\" \""...)
	buf = append(buf, agents[rng.IntN(len(agents))]...)
	buf = append(buf, "\"\n"...)
	return buf
}

func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			u, mult = strings.TrimSuffix(u, x.suf), x.m
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("-size %q: use a number with KB, MB or GB", s)
	}
	return int64(f * float64(mult)), nil
}
