package gateway

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// framingServer serves a handler that reads the body and echoes it, behind GuardFraming, on a
// real loopback listener; served counts the requests that reached the handler.
func framingServer(t *testing.T) (addr string, served *atomic.Int32) {
	t.Helper()
	served = new(atomic.Int32)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			body, _ := io.ReadAll(r.Body)
			w.Write([]byte("upstream " + r.Method + " " + string(body)))
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(GuardFraming(srv, ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), served
}

// rawExchange writes request on a new connection and reads the answers to the number of
// requests it holds; then reports whether the server closed the connection (a further read
// returns EOF) rather than keeping it open.
func rawExchange(t *testing.T, addr, request string, answers int) ([]*http.Response, []string, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var resps []*http.Response
	var bodies []string
	for range answers {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading answer %d: %v", len(resps)+1, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resps, bodies = append(resps, resp), append(bodies, string(body))
	}
	// A closed connection reads EOF at once; an open one waits for the next request, or
	// answers one more (a smuggled request).
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = br.ReadByte()
	var ne net.Error
	switch {
	case err == nil:
		return resps, bodies, false
	case errors.As(err, &ne) && ne.Timeout():
		return resps, bodies, false
	case err == io.EOF, strings.Contains(err.Error(), "reset"):
		return resps, bodies, true
	}
	t.Fatalf("after the answers: %v", err)
	return nil, nil, false
}

// TestConflictingFramingIsRefusedAndTheConnectionClosed sends, over raw sockets, heads that
// declare their length two ways: each is answered 400 problem+json, the connection is closed
// (so a smuggled request after it is never read), and the handler never runs.
func TestConflictingFramingIsRefusedAndTheConnectionClosed(t *testing.T) {
	addr, served := framingServer(t)
	smuggled := "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct{ name, request string }{
		{"Content-Length then Transfer-Encoding", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"Transfer-Encoding then Content-Length", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + smuggled},
		{"names in other cases", "POST /v1/orders HTTP/1.1\r\nHost: x\r\ncontent-LENGTH: 4\r\nTRANSFER-encoding: Chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"a tab before the value", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length:\t4\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"bare LF line ends", "POST /v1/orders HTTP/1.1\nHost: x\nContent-Length: 4\nTransfer-Encoding: chunked\n\n0\r\n\r\n" + smuggled},
		{"Transfer-Encoding folded over two lines", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"Content-Length folded over two lines", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\t4\r\n\r\nabcd" + smuggled},
		{"HTTP/1.0 keep-alive with both", "POST /v1/orders HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\nabcd" + smuggled},
		{"the conflict after a good request on the same connection", "GET /v1/orders HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := served.Load()
			answers := 1 + strings.Count(tt.request[:strings.Index(tt.request, "POST")], "HTTP/1.1\r\n")
			resps, bodies, closed := rawExchange(t, addr, tt.request, answers)
			last, body := resps[len(resps)-1], bodies[len(bodies)-1]
			if last.StatusCode != http.StatusBadRequest || last.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("answer %d %s %q, want 400 problem+json", last.StatusCode, last.Header.Get("Content-Type"), body)
			}
			var p Problem
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != 400 || p.Type != ProblemTypeBase+"framing" || !strings.Contains(p.Detail, "Content-Length") {
				t.Errorf("problem %+v (%v)", p, err)
			}
			if !closed {
				t.Error("the connection stays open after the refusal")
			}
			if got := served.Load() - before; got != int32(answers-1) {
				t.Errorf("the handler ran %d times, want %d (the refused request and the smuggled one never reach it)", got, answers-1)
			}
		})
	}
	t.Run("in Chinese for a Chinese reader", func(t *testing.T) {
		resps, bodies, _ := rawExchange(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nAccept-Language: zh-CN\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1)
		if resps[0].StatusCode != 400 || resps[0].Header.Get("Content-Language") != "zh" || !strings.Contains(bodies[0], "长度") {
			t.Errorf("%d %v %s", resps[0].StatusCode, resps[0].Header, bodies[0])
		}
	})
}

// TestOrdinaryFramingKeepsTheConnection checks that requests framed one way pass, the connection
// staying open for the next one: chunked alone, Content-Length alone (twice the same, which
// net/http accepts), a folded header that is not about length, and a body whose text looks like
// headers.
func TestOrdinaryFramingKeepsTheConnection(t *testing.T) {
	addr, _ := framingServer(t)
	tests := []struct{ name, request, want string }{
		{"chunked", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", "upstream POST abcd"},
		{"Content-Length", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd", "upstream POST abcd"},
		{"the same Content-Length twice", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd", "upstream POST abcd"},
		{"another header folded", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n b\r\nContent-Length: 4\r\n\r\nabcd", "upstream POST abcd"},
		{"a body that mentions both headers", "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 52\r\n\r\nContent-Length: 4 and Transfer-Encoding: chunked, ok", "upstream POST Content-Length: 4 and Transfer-Encoding: chunked, ok"},
		{"no body", "GET /v1/orders HTTP/1.1\r\nHost: x\r\n\r\n", "upstream GET "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits a moment to see its connection stay open
			req := tt.request + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
			resps, bodies, closed := rawExchange(t, addr, req, 2)
			if resps[0].StatusCode != 200 || bodies[0] != tt.want || resps[1].StatusCode != 200 {
				t.Errorf("answers %d %q, %d %q; want 200 %q, then 200", resps[0].StatusCode, bodies[0], resps[1].StatusCode, bodies[1], tt.want)
			}
			if closed {
				t.Error("the connection was closed after ordinary requests")
			}
		})
	}
}

// TestFramingNetHTTPRefusesByItself records the framing variants net/http refuses before any
// handler runs, closing the connection: the gateway relies on it for these.
func TestFramingNetHTTPRefusesByItself(t *testing.T) {
	addr, served := framingServer(t)
	tests := []struct {
		name, request string
		status        int
	}{
		{"two different Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
		{"a list in Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1\r\n\r\na", 400},
		{"a signed Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na", 400},
		{"Transfer-Encoding: chunked, identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 501},
		{"Transfer-Encoding: identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 1\r\n\r\na", 501},
		{"Transfer-Encoding twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
		{"a space before the colon", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 1\r\n\r\na", 400},
		{"a CR inside a value", "POST / HTTP/1.1\r\nHost: x\r\nX-Note: a\rb\r\nContent-Length: 1\r\n\r\na", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := served.Load()
			resps, _, closed := rawExchange(t, addr, tt.request+"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 1)
			if resps[0].StatusCode != tt.status || !closed || served.Load() != before {
				t.Errorf("answer %d, closed %v, handler ran %d times; want %d, closed, never", resps[0].StatusCode, closed, served.Load()-before, tt.status)
			}
		})
	}
}

// TestFramingOverTLSClosesAfterChunked checks the fallback where the guard cannot read the head
// (TLS above it): a chunked request is answered, then its connection closed.
func TestFramingOverTLSClosesAfterChunked(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = GuardFraming(srv.Config, ln)
	srv.StartTLS() // TLS wraps the guarded listener: the guard sees encrypted bytes
	defer srv.Close()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if !resp.Close {
		t.Error("a chunked request over TLS left the connection open")
	}
	if _, err := http.ReadResponse(br, nil); err == nil {
		t.Error("the request after the chunked one was answered")
	}
}

// BenchmarkFramingScan measures what the guard adds to each read: scanning an ordinary request
// head, and a 64 KB body.
func BenchmarkFramingScan(b *testing.B) {
	head := []byte("GET /v1/orders/42?expand=items HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: application/json\r\nAccept-Language: en-US,en;q=0.9,zh;q=0.8\r\nAuthorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789\r\nX-API-Key: acme-dev\r\nCookie: session=0123456789abcdef\r\n\r\n")
	body := []byte(strings.Repeat("{\"id\": 42, \"items\": [1, 2, 3], \"note\": \"some text\"}\n", 64<<10/52))
	for _, bb := range []struct {
		name string
		data []byte
	}{{"head", head}, {"body", body}} {
		b.Run(bb.name, func(b *testing.B) {
			var c framingConn
			b.SetBytes(int64(len(bb.data)))
			b.ReportAllocs()
			for b.Loop() {
				c.scan(bb.data)
			}
		})
	}
}
