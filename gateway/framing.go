package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync/atomic"
)

// GuardFraming defends srv against request smuggling through conflicting framing: an HTTP/1
// request whose head carries both Content-Length and Transfer-Encoding, or a Content-Length or
// Transfer-Encoding folded over two lines (obs-fold), is answered 400 problem+json and its
// connection closed, so that nothing after it on the connection is read as another request.
// It returns ln wrapped; srv must serve that listener.
//
// net/http cannot tell the handler: it drops Content-Length from a chunked request's header
// before the handler runs (and reads Transfer-Encoding as chunked after unfolding it). So the
// connections of the returned listener note, while the server reads them, each header block that
// holds such a conflict, and the handler srv gets asks the connection only for an HTTP/1 request
// with a body (chunked, or a Content-Length) or of HTTP/1.0: a request without a body costs
// nothing more. Connections the guard cannot read in clear (TLS, whose bytes it sees encrypted
// when ln is wrapped under it) are closed after every chunked request instead.
//
// GuardFraming sets srv.Handler and srv.ConnContext (calling the ConnContext already set).
func GuardFraming(srv *http.Server, ln net.Listener) net.Listener {
	next := srv.Handler
	if next == nil {
		next = http.DefaultServeMux
	}
	srv.Handler = &framingHandler{next: next}
	prev := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prev != nil {
			ctx = prev(ctx, c)
		}
		if fc, ok := c.(*framingConn); ok {
			ctx = context.WithValue(ctx, framingConnKey{}, fc)
		}
		return ctx
	}
	return &framingListener{ln}
}

type framingConnKey struct{}

type framingListener struct{ net.Listener }

func (l *framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// framingConn reads through to its connection and scans what it reads, line by line, for header
// blocks (runs of non-empty lines) that carry conflicting framing. It keeps the first bytes of
// the current line only; bodies are skipped at the speed of bytes.IndexByte. A body's lines are
// scanned too: a body made to look like a conflicting head can only get its own sender's next
// request refused.
type framingConn struct {
	net.Conn
	// conflicts counts the conflicting blocks read and not yet claimed by a request. The
	// handler's goroutine reads it while net/http's background read may scan.
	conflicts atomic.Int32

	// The scanner, touched only by Read (which net/http never calls concurrently).
	head    [len("transfer-encoding:")]byte // the current line's first bytes
	headN   int
	lineLen int
	cl, te  bool // the block has a Content-Length, a Transfer-Encoding
	folded  bool // a Content-Length or Transfer-Encoding continues on a folded line
	framing bool // the previous line was a Content-Length or Transfer-Encoding
}

func (c *framingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.scan(b[:n])
	}
	return n, err
}

func (c *framingConn) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if c.headN < len(c.head) {
			c.headN += copy(c.head[c.headN:], seg)
		}
		c.lineLen += len(seg)
		if i < 0 {
			return
		}
		c.endLine()
		p = p[i+1:]
	}
}

// endLine classifies the line just read and ends the block at an empty line.
func (c *framingConn) endLine() {
	h := c.head[:c.headN]
	switch {
	case c.lineLen == 0 || c.lineLen == 1 && h[0] == '\r':
		if c.cl && c.te || c.folded {
			c.conflicts.Add(1)
		}
		c.cl, c.te, c.folded, c.framing = false, false, false, false
	case h[0] == ' ' || h[0] == '\t':
		c.folded = c.folded || c.framing
	case hasPrefixFold(h, "content-length:"):
		c.cl, c.framing = true, true
	case hasPrefixFold(h, "transfer-encoding:"):
		c.te, c.framing = true, true
	default:
		c.framing = false
	}
	c.headN, c.lineLen = 0, 0
}

// hasPrefixFold reports whether b starts with the lower-case ASCII prefix, ignoring case.
func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if b[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

type framingHandler struct{ next http.Handler }

func (h *framingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Only an HTTP/1 request with a body, or an HTTP/1.0 one (whose Transfer-Encoding net/http
	// drops), can be framed two ways.
	if r.ProtoMajor == 1 && (len(r.TransferEncoding) > 0 || r.ContentLength > 0 || r.ProtoMinor == 0) {
		if fc, ok := r.Context().Value(framingConnKey{}).(*framingConn); ok {
			if fc.conflicts.Swap(0) > 0 {
				writeFramingProblem(w, r)
				return
			}
		} else if len(r.TransferEncoding) > 0 {
			w.Header().Set("Connection", "close") // a head the guard could not read
		}
	}
	h.next.ServeHTTP(w, r)
}

// framingText words the 400 of a conflicting framing, by language.
var framingText = map[string][2]string{
	"en": {"Conflicting message framing", "This request says its length in two ways (Content-Length and Transfer-Encoding, or a length header folded over two lines), which proxies may read differently; it is refused and the connection closed. Send one of them."},
	"zh": {"请求的长度声明相互冲突", "此请求以两种方式声明长度（同时带有 Content-Length 与 Transfer-Encoding，或长度头被折行），各代理可能理解不同，因此被拒绝并关闭连接。请只发送其中一种。"},
}

// writeFramingProblem answers 400 problem+json in the caller's language and closes the
// connection after it.
func writeFramingProblem(w http.ResponseWriter, r *http.Request) {
	lang := language(r.Header.Get("Accept-Language"))
	t, ok := framingText[lang]
	if !ok {
		t = framingText["en"]
	}
	body, _ := json.Marshal(Problem{Type: ProblemTypeBase + "framing", Title: t[0], Status: http.StatusBadRequest, Detail: t[1], Phase: "framing"})
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Language", lang)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	w.Write(append(body, '\n'))
}
