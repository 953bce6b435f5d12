package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// ProxyOptions configure NewProxy. The zero value is usable.
type ProxyOptions struct {
	// Timeout bounds the wait for the upstream's response headers; past it the client gets a
	// 504 problem. Zero means 60s. Bodies are streamed and not bounded.
	Timeout time.Duration
	// Metrics counts upstream failures; nil counts none.
	Metrics *Metrics
	// Logger receives upstream failures; nil means slog.Default().
	Logger *slog.Logger
}

// copyBufferSize is the size of the buffers the proxy copies bodies through.
const copyBufferSize = 32 << 10

// NewProxy returns a reverse proxy to upstream. It rewrites requests with ReverseProxy.Rewrite
// (SetURL and SetXForwarded: the client's X-Forwarded-* are replaced, never trusted), reuses
// its copy buffers, keeps many idle connections to the upstream, never asks the upstream for a
// compression the client did not ask for, streams bodies (responses of
// unknown length are flushed as they come), passes WebSocket and other protocol upgrades
// through, and answers a dead upstream with 502 and a slow one with 504, as problem+json.
func NewProxy(upstream *url.URL, o ProxyOptions) *httputil.ReverseProxy {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	transport := &http.Transport{
		Proxy:                 nil, // the upstream is named explicitly; never via an environment proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		// A proxy passes the client's Accept-Encoding as it is. Without this the transport would
		// ask for gzip on its own and inflate the answer, costing CPU and dropping
		// Content-Length on the way back.
		DisableCompression: true,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.SetXForwarded()
		},
		Transport:  transport,
		BufferPool: newBufferPool(),
		ErrorLog:   log.New(slogWriter{logger}, "", 0),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(r.Context().Err(), context.Canceled) {
				// The client went away; nobody is left to answer.
				return
			}
			status, kind := http.StatusBadGateway, "unreachable"
			var ne net.Error
			if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
				status, kind = http.StatusGatewayTimeout, "timeout"
			}
			if o.Metrics != nil {
				o.Metrics.Upstream.WithLabelValues(kind).Inc()
			}
			logger.LogAttrs(r.Context(), slog.LevelWarn, "upstream failed",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
			writeUpstreamProblem(w, r, status)
		},
	}
}

// standardAllow is the Allow header of a 405 when the plan lists no extra methods.
const standardAllow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

// writeMethodProblem refuses a method the gateway does not carry (CONNECT, TRACE, or one the
// plan does not list) with 405 and Allow, in the caller's language.
func writeMethodProblem(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeGatewayProblem(w, r, http.StatusMethodNotAllowed, "method")
}

// writeUpstreamProblem answers a failed upstream call in the caller's language, as its 410 is:
// problem+json, or the HTML page for a browser. The sunset headers already set stay.
func writeUpstreamProblem(w http.ResponseWriter, r *http.Request, status int) {
	writeGatewayProblem(w, r, status, "upstream")
}

// writeGatewayProblem answers a call the gateway itself refuses or cannot carry (phase method or
// upstream, or path for an ambiguous path), in the caller's language: problem+json, or the HTML page for a browser.
func writeGatewayProblem(w http.ResponseWriter, r *http.Request, status int, phase string) {
	lang := language(r.Header.Get("Accept-Language"))
	t := languages[lang]
	p := Problem{
		Type: ProblemTypeBase + phase, Title: t.UpstreamTitle[status], Status: status, Phase: phase,
		Detail: t.UpstreamDetail[status],
	}
	if p.Title == "" {
		p.Title, p.Detail = http.StatusText(status), t.UpstreamDetail[http.StatusGatewayTimeout]
	}
	h := w.Header()
	h.Set("Content-Language", lang)
	h.Add("Vary", "Accept, Accept-Language")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	var body []byte
	if wantsHTML(r.Header.Get("Accept")) {
		var buf bytes.Buffer
		if err := pageTemplate.Execute(&buf, pageData{Lang: lang, Title: p.Title, Detail: p.Detail,
			Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Text: t}); err == nil {
			h.Set("Content-Type", "text/html; charset=utf-8")
			body = buf.Bytes()
		}
	}
	if body == nil {
		h.Set("Content-Type", "application/problem+json")
		body, _ = json.Marshal(p)
		body = append(body, '\n')
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// bufferPool is an httputil.BufferPool on a sync.Pool. It keeps pointers to arrays, so that
// neither Get nor Put allocates (a pointer to a slice header would, on every Put).
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// Get returns a buffer of copyBufferSize bytes.
func (p *bufferPool) Get() []byte { return p.pool.Get().(*[copyBufferSize]byte)[:] }

// Put returns b to the pool; buffers of another size are left to the garbage collector.
func (p *bufferPool) Put(b []byte) {
	if cap(b) >= copyBufferSize {
		p.pool.Put((*[copyBufferSize]byte)(b[:copyBufferSize]))
	}
}

// slogWriter sends ReverseProxy's log lines to slog.
type slogWriter struct{ l *slog.Logger }

func (s slogWriter) Write(b []byte) (int, error) {
	s.l.Warn("proxy", slog.String("message", string(b)))
	return len(b), nil
}
