package policy

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// This file holds a hand-written route matcher instead of http.ServeMux. ServeMux cannot tell
// which pattern matched without building a request, and building one allocates; the policy's pass
// path must not. The matcher follows ServeMux's own routing tree (net/http routing_tree.go) so
// that it picks the same pattern ServeMux would:
//
//   - hosts: a pattern with a host wins over one without;
//   - methods: a pattern with the request's method wins over one without; HEAD also matches GET;
//   - path segments: at each position a literal wins over a {wildcard}, which wins over a
//     {rest...} wildcard or a trailing-slash subtree. Validation (plan.validate registers every
//     route in a ServeMux) has refused conflicting patterns, which is what makes this greedy
//     order equal to "the most specific pattern wins";
//   - paths are matched cleaned ("/a/../b" as "/b") and segment by segment unescaped, and a
//     path without its trailing slash ("/v1/orders") belongs to the subtree pattern
//     ("/v1/orders/") that ServeMux would redirect it to.
//
// Tests compare it with http.ServeMux on generated patterns and paths (FuzzMatch).

// route is one compiled pattern and the feature it belongs to.
type route struct {
	pattern string
	feature int
	// segments counts the pattern's path segments as ServeMux does (a trailing slash or {$} is
	// one), for the exact-match test of the trailing-slash rule.
	segments int
	// multi reports whether the pattern ends in a {rest...} wildcard or a trailing slash.
	multi bool
}

// exact reports whether r matches p without a non-empty multi wildcard (ServeMux's exactMatch).
func (r *route) exact(p string) bool {
	if !r.multi {
		return true
	}
	if len(p) > 0 && p[len(p)-1] != '/' {
		return false
	}
	return r.segments == strings.Count(p, "/")
}

// node is a node of the path tree.
type node struct {
	leaf    *route           // a pattern ends here
	literal map[string]*node // literal segments; "/" is {$}
	wild    *node            // a {name} segment
	multi   *route           // a {name...} segment or a trailing slash
}

// methodTree is the path tree of the patterns of one method ("" for any method).
type methodTree struct {
	method string
	root   *node
}

// hostTree holds the patterns of one host ("" for any host), by method.
type hostTree struct {
	host    string
	methods []methodTree
}

// matcher finds the feature of a request.
type matcher struct {
	hosts []hostTree // the "" host, if any, is last
	// fold matches hosts and literal path segments regardless of letter case (the service's
	// paths are case-insensitive). Literals are stored in lower case.
	fold bool
}

// add inserts pattern for feature. The pattern must be valid for ServeMux (checkPattern).
func (m *matcher) add(pattern string, feature int) error {
	method, rest := "", strings.TrimLeft(pattern, " \t")
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return fmt.Errorf("route %q has no path", pattern)
	}
	host, p := rest[:i], rest[i:]
	if m.fold {
		host = strings.ToLower(host)
	}
	r := &route{pattern: pattern, feature: feature}
	n := m.tree(host, method)
	// Walk the segments as ServeMux's parsePattern does.
	p = p[1:]
	for {
		if p == "" {
			// A trailing slash: an anonymous multi wildcard.
			r.segments++
			r.multi = true
			n.multi = r
			return nil
		}
		seg := p
		j := strings.IndexByte(p, '/')
		if j >= 0 {
			seg, p = p[:j], p[j+1:]
		} else {
			p = ""
		}
		last := j < 0
		r.segments++
		switch {
		case seg == "{$}":
			n = n.child("/")
			n.leaf = r
			return nil
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}"):
			r.multi = true
			n.multi = r
			return nil
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			if n.wild == nil {
				n.wild = &node{}
			}
			n = n.wild
		default:
			lit, err := url.PathUnescape(seg)
			if err != nil {
				return fmt.Errorf("route %q: %v", pattern, err)
			}
			if m.fold {
				lit = strings.ToLower(lit)
			}
			n = n.child(lit)
		}
		if last {
			n.leaf = r
			return nil
		}
	}
}

// tree returns the root of host's and method's path tree, making it if needed.
func (m *matcher) tree(host, method string) *node {
	hi := -1
	for i := range m.hosts {
		if m.hosts[i].host == host {
			hi = i
		}
	}
	if hi < 0 {
		m.hosts = append(m.hosts, hostTree{host: host})
		hi = len(m.hosts) - 1
		// Keep the hostless patterns last: they are tried after the host's own.
		for k := len(m.hosts) - 1; k > 0 && m.hosts[k-1].host == ""; k-- {
			m.hosts[k], m.hosts[k-1] = m.hosts[k-1], m.hosts[k]
			hi = k - 1
		}
	}
	h := &m.hosts[hi]
	for i := range h.methods {
		if h.methods[i].method == method {
			return h.methods[i].root
		}
	}
	root := &node{}
	h.methods = append(h.methods, methodTree{method: method, root: root})
	// The method-less tree goes last: a pattern with the request's method wins.
	for k := len(h.methods) - 1; k > 0 && h.methods[k-1].method == ""; k-- {
		h.methods[k], h.methods[k-1] = h.methods[k-1], h.methods[k]
	}
	return root
}

func (n *node) child(seg string) *node {
	if n.literal == nil {
		n.literal = map[string]*node{}
	}
	c := n.literal[seg]
	if c == nil {
		c = &node{}
		n.literal[seg] = c
	}
	return c
}

// match returns the route of the request, or nil. p is the escaped path (URL.EscapedPath); host
// may carry a port.
func (m *matcher) match(method, host, p string) *route {
	if len(m.hosts) == 0 {
		return nil
	}
	if p == "*" {
		// OPTIONS * names the server, not a resource: no feature.
		return nil
	}
	if !isClean(p) {
		p = cleanPath(p) // rare: allocation is acceptable here
	}
	return m.matchClean(method, host, p, false, false)
}

// matchClean is match for a clean path p. other matches p with the methods match would not try
// for method (not method itself, nor GET for HEAD, nor the method-less patterns). plain says p
// holds no escape and no upper-case letter, so that its segments are their own keys.
func (m *matcher) matchClean(method, host, p string, other, plain bool) *route {
	host = stripPort(host)
	r := m.matchHost(method, host, p, false, other, plain)
	if (r == nil || !r.exact(p)) && p[len(p)-1] != '/' {
		// ServeMux redirects /tree to /tree/ when that is an exact match of a subtree pattern;
		// the request then belongs to that pattern.
		if r2 := m.matchHost(method, host, p, true, other, plain); r2 != nil && r2.exactSlash(p) {
			return r2
		}
	}
	return r
}

// lookup returns the route of a request whose path p is canonical (canonicalPath). Beyond
// match:
//
//   - a path with a trailing slash also belongs to the specific (non-subtree) route its
//     slash-less form matches, when its own match is only a subtree or nothing:
//     "/v1/reports/1/" is "GET /v1/reports/{id}" to the many services that ignore a trailing
//     slash;
//   - a request whose method no matching route names belongs to the route its path matches
//     with another method (where ServeMux would answer 405): "DELETE /v1/reports/1" is part of
//     the reports feature of "GET /v1/reports/{id}", not of the service.
//
// plain says p holds no escape and no upper-case letter (canonicalPath tells).
func (m *matcher) lookup(method, host, p string, plain bool) *route {
	if len(m.hosts) == 0 || p == "*" {
		return nil
	}
	if r := m.lookupMethod(method, host, p, false, plain); r != nil {
		return r
	}
	return m.lookupMethod(method, host, p, true, plain)
}

func (m *matcher) lookupMethod(method, host, p string, other, plain bool) *route {
	r := m.matchClean(method, host, p, other, plain)
	if len(p) > 1 && p[len(p)-1] == '/' && (r == nil || r.multi) {
		if r2 := m.matchClean(method, host, p[:len(p)-1], other, plain); r2 != nil && !r2.multi {
			return r2
		}
	}
	return r
}

// exactSlash is exact for the path p+"/".
func (r *route) exactSlash(p string) bool {
	if !r.multi {
		return true
	}
	return r.segments == strings.Count(p, "/")+1
}

func (m *matcher) matchHost(method, host, p string, slash, other, plain bool) *route {
	for i := range m.hosts {
		h := &m.hosts[i]
		if h.host != "" && h.host != host && !(m.fold && strings.EqualFold(h.host, host)) {
			continue
		}
		if r := h.matchMethod(method, p, slash, m.fold, other, plain); r != nil {
			return r
		}
	}
	return nil
}

func (h *hostTree) matchMethod(method, p string, slash, fold, other, plain bool) *route {
	if other {
		for i := range h.methods {
			t := &h.methods[i]
			if t.method == method || t.method == "" || method == http.MethodHead && t.method == http.MethodGet {
				continue
			}
			if r := t.root.matchPath(p, slash, fold, plain); r != nil {
				return r
			}
		}
		return nil
	}
	// The request's own method first, then GET for HEAD, then the method-less patterns.
	for k, want := range [3]string{method, http.MethodGet, ""} {
		if k == 1 && method != http.MethodHead {
			continue
		}
		for i := range h.methods {
			if t := &h.methods[i]; t.method == want {
				if r := t.root.matchPath(p, slash, fold, plain); r != nil {
					return r
				}
			}
		}
	}
	return nil
}

// matchPath matches p (which starts with "/", or is empty at the end) below n. slash adds a
// virtual "/" at the end of p, for the trailing-slash redirect rule; fold compares literal
// segments in lower case; plain skips looking for what would make a segment differ from its key.
func (n *node) matchPath(p string, slash, fold, plain bool) *route {
	if n == nil {
		return nil
	}
	if p == "" {
		if !slash {
			return n.leaf
		}
		p, slash = "/", false
	}
	seg, rest := firstSegment(p)
	var child *node
	slashKey := seg == "/"
	if !plain && needsKey(seg, fold) {
		// ServeMux compares unescaped segments (an invalid escape stays as written); a
		// case-insensitive service compares them in lower case. The key is built on the stack
		// and the map indexed with string(bytes), which does not allocate.
		var kb [64]byte
		key := appendKey(kb[:0], seg, fold)
		child, slashKey = n.literal[string(key)], string(key) == "/"
	} else {
		child = n.literal[seg]
	}
	if r := child.matchPath(rest, slash, fold, plain); r != nil {
		return r
	}
	if !slashKey {
		if r := n.wild.matchPath(rest, slash, fold, plain); r != nil {
			return r
		}
	}
	return n.multi
}

// needsKey reports whether seg differs from its literal key: it holds an escape, or an upper-case
// letter when fold.
func needsKey(seg string, fold bool) bool {
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; c == '%' || fold && 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// appendKey appends the literal key of seg to b: unescaped (an invalid escape as written, as
// url.PathUnescape would refuse it whole) and lower-cased when fold.
func appendKey(b []byte, seg string, fold bool) []byte {
	valid := true
	for i := 0; i < len(seg); i++ {
		if seg[i] == '%' && (i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2])) {
			valid = false
			break
		}
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '%' && valid {
			c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
			i += 2
		}
		if fold && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// firstSegment splits the first segment off p, as ServeMux does (without unescaping, which
// matchPath does only when the segment holds an escape).
func firstSegment(p string) (seg, rest string) {
	if p == "/" {
		return "/", ""
	}
	p = p[1:]
	i := strings.IndexByte(p, '/')
	if i < 0 {
		i = len(p)
	}
	return p[:i], p[i:]
}

// isClean reports whether cleanPath would leave p as it is, without allocating.
func isClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i-1] != '/' {
			continue
		}
		switch {
		case p[i] == '/':
			return false
		case p[i] == '.':
			end := i + 1
			if end < len(p) && p[end] == '.' {
				end++
			}
			if end == len(p) || p[end] == '/' {
				return false
			}
		}
	}
	return true
}

// cleanPath is ServeMux's cleanPath: path.Clean, rooted, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			np = p
		} else {
			np += "/"
		}
	}
	return np
}

// stripPort drops a port from host, as ServeMux does.
func stripPort(host string) string {
	if strings.IndexByte(host, ':') < 0 {
		return host
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	return h
}

// checkPattern asks ServeMux whether pattern is valid and does not conflict with the patterns
// already in mux, so that the matcher only ever sees what ServeMux accepts.
func checkPattern(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return nil
}
