package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFramingConflictsAreRefusedOnEveryListener sends, over a raw socket, a request carrying
// both Content-Length and Transfer-Encoding followed by a smuggled request, to `sunset
// gateway`, to the gateway of `sunset serve --upstream` and to the control plane: each answers
// 400 problem+json and closes the connection, and the upstream sees neither request.
func TestFramingConflictsAreRefusedOnEveryListener(t *testing.T) {
	var upstreamCalls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamCalls.Add(1)
		io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(up.Close)
	gw, _, stopGW := runGateway(t, "--plan", "../../examples/api-v2.yaml", "--upstream", up.URL)
	defer stopGW()
	api, serveGW, stopServe := serveWithGateway(t, "sqlite:"+filepath.Join(t.TempDir(), "sunset.db"), up.URL)
	defer stopServe()

	const request = "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
		"GET /v1/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n"
	for name, base := range map[string]string{"sunset gateway": gw, "sunset serve's gateway": serveGW, "the control plane": api} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, request)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("answer %d %s, want 400 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("after the refusal the connection reads %v, want EOF (closed)", err)
			}
		})
	}
	if n := upstreamCalls.Load(); n != 0 {
		t.Errorf("the upstream was called %d times", n)
	}
}
