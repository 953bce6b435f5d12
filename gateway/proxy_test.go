package gateway

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestProxyStreamsBodiesAsTheyCome(t *testing.T) {
	release := make(chan struct{})
	b := setup(t, "2027-01-06T12:00", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second\n")
	}))
	resp, err := b.front.Client().Get(b.front.URL + "/v1/orders/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	close(release)
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v: the answer was buffered", line, err)
	}
	if resp.Header.Get("Deprecation") == "" {
		t.Error("streamed answer lacks Deprecation")
	}
}

func TestProxyPassesWebSocketUpgradesThrough(t *testing.T) {
	b := setup(t, "2027-01-06T12:00", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", 400)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString("echo " + line)
		rw.Flush()
	}))
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(conn, "GET /v1/orders/ws HTTP/1.1\r\nHost: x\r\nX-API-Key: c\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if resp.Header.Get("Deprecation") == "" {
		t.Error("the 101 answer lacks Deprecation")
	}
	io.WriteString(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo hello\n" {
		t.Fatalf("after the upgrade: %q %v", line, err)
	}
}

func TestGatewayServesHTTP2ToClients(t *testing.T) {
	b := setup(t, "2027-01-06T12:00", nil)
	u, _ := url.Parse(b.upstream.URL)
	srv := httptest.NewUnstartedServer(b.gw.Wrap(NewProxy(u, ProxyOptions{})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/v1/orders/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != "upstream GET /v1/orders/1" || resp.Header.Get("Sunset") == "" {
		t.Errorf("%s %d %q %v", resp.Proto, resp.StatusCode, body, resp.Header)
	}
	_ = tls.VersionTLS13
}

func TestBadInputIsAnsweredNeverPanics(t *testing.T) {
	b := setup(t, "2027-03-16T12:00", nil)
	addr := strings.TrimPrefix(b.front.URL, "http://")
	raw := func(t *testing.T, request string) string {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(conn, request)
		status, _ := bufio.NewReader(conn).ReadString('\n')
		return strings.TrimSpace(status)
	}
	tests := []struct{ name, request, want string }{
		{"invalid percent-encoding", "GET /v1/orders/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
		{"over-long path", "GET /" + strings.Repeat("a/", 4000) + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 410 Gone"},
		{"unknown method", "BREW /v1/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
		{"dot segments", "GET /v1/x/../reports/1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 410 Gone"},
		{"absurd Accept-Language", "GET /v1/orders/1 HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nAccept-Language: " + strings.Repeat("zh;q=9,", 2000) + "\r\n\r\n", "HTTP/1.1 410 Gone"},
		{"repeated headers", "GET /v1/orders/1 HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-API-Key: a\r\n", 500) + "\r\n", "HTTP/1.1 410 Gone"},
	}
	// Newer Go releases bound the number of header fields in net/http itself: there, 500
	// repeated headers are net/http's 431 before the gateway sees them — answered as net/http
	// would, which is what the gateway promises.
	alsoFromNetHTTP := map[string]string{"repeated headers": "HTTP/1.1 431 Request Header Fields Too Large"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := raw(t, tt.request); got != tt.want && got != alsoFromNetHTTP[tt.name] {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("huge header", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(b.front.Config.Handler)
		srv.Config.MaxHeaderBytes = 64 << 10
		srv.Start()
		defer srv.Close()
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(3 * time.Second))
		go io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 200<<10)+"\r\n\r\n")
		status, _ := bufio.NewReader(conn).ReadString('\n')
		if !strings.HasPrefix(status, "HTTP/1.1 431") {
			t.Errorf("got %q", status)
		}
	})
}

func TestClientIPTrustsForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	id := Identifier{TrustedProxies: trusted}
	req := func(remote string, xff ...string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"untrusted peer is itself", req("203.0.113.5:1234", "1.2.3.4"), "203.0.113.5"},
		{"trusted peer names the client", req("127.0.0.1:1", "198.51.100.7"), "198.51.100.7"},
		{"trusted hops are skipped from the right", req("10.1.1.1:1", "198.51.100.7, 10.2.2.2"), "198.51.100.7"},
		{"a spoofed left-most entry is ignored", req("10.1.1.1:1", "6.6.6.6, 198.51.100.7"), "198.51.100.7"},
		{"garbage stops the walk", req("10.1.1.1:1", "nonsense"), "10.1.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := id.Identify(tt.r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("bearer tokens are kept only as a hash", func(t *testing.T) {
		id := Identifier{}
		id.Rule.Bearer = true
		r := req("1.1.1.1:1")
		r.Header.Set("Authorization", "Bearer s3cret")
		got := id.Identify(r)
		if !strings.HasPrefix(got, "bearer:") || strings.Contains(got, "s3cret") || len(got) != len("bearer:")+16 {
			t.Errorf("got %q", got)
		}
	})
}
