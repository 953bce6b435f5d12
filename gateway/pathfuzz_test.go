package gateway

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/examples"
	"github.com/sunsetops/sunset/plan"
	"github.com/sunsetops/sunset/policy"
)

// This file holds the differential fuzz test of path spellings: paths built from the routes of
// every example plan, spelled with random escapes, case, separators, dot segments and
// parameters, are read by a reference normalizer written here from RFC 3986 (and the looser
// readings of common upstreams), independently of policy/canonical.go; whenever one of its
// readings lands on a route of a retired feature, the gateway must not forward the request.

// refUnreserved is RFC 3986 §2.3.
func refUnreserved(c byte) bool {
	return strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", c) >= 0
}

func refHex(c byte) (byte, bool) {
	i := strings.IndexByte("0123456789ABCDEF", c)
	if i < 0 {
		i = strings.IndexByte("0123456789abcdef", c)
	}
	return byte(i), i >= 0
}

// refNormalizeEscapes is RFC 3986 §6.2.2.1 and §6.2.2.2: escapes of unreserved characters are
// decoded, the hex digits of the others upper-cased. An invalid escape stays as written.
func refNormalizeEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := refHex(s[i+1])
			lo, ok2 := refHex(s[i+2])
			if ok1 && ok2 {
				c := hi<<4 | lo
				if refUnreserved(c) {
					b.WriteByte(c)
				} else {
					b.WriteString(strings.ToUpper(s[i : i+3]))
				}
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// refDecodeAll decodes every valid escape, as a lenient upstream does.
func refDecodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := refHex(s[i+1])
			lo, ok2 := refHex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// refRemoveDotSegments is RFC 3986 §5.2.4, step by step.
func refRemoveDotSegments(in string) string {
	out := ""
	popLast := func() {
		if i := strings.LastIndexByte(out, '/'); i >= 0 {
			out = out[:i]
		} else {
			out = ""
		}
	}
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"): // A
			in = in[3:]
		case strings.HasPrefix(in, "./"): // A
			in = in[2:]
		case strings.HasPrefix(in, "/./"): // B
			in = "/" + in[3:]
		case in == "/.": // B
			in = "/"
		case strings.HasPrefix(in, "/../"): // C
			in = "/" + in[4:]
			popLast()
		case in == "/..": // C
			in = "/"
			popLast()
		case in == "." || in == "..": // D
			in = ""
		default: // E
			start := 0
			if in[0] == '/' {
				start = 1
			}
			end := len(in)
			if j := strings.IndexByte(in[start:], '/'); j >= 0 {
				end = start + j
			}
			out += in[:end]
			in = in[end:]
		}
	}
	return out
}

// refFold folds case as a case-insensitive service may: ASCII letters to lower case, and any
// other letter whose case-folding orbit holds an ASCII letter to that letter.
func refFold(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[0])
			s = s[1:]
			continue
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				r = f
				break
			}
		}
		b.WriteRune(unicode.ToLower(r))
		s = s[n:]
	}
	return b.String()
}

// refReadings returns the paths a service may see in the escaped path raw: RFC 3986's reading
// (escapes normalized, dot segments removed) and, when lenient, a lenient upstream's (everything
// decoded, twice, "\" as "/", ";parameters" cut, empty segments dropped, dot segments removed),
// each also without its trailing slash, all folded when fold.
// RFC 3986's reading is an escaped path (its escapes of reserved characters are data), the
// lenient one a decoded path.
func refReadings(raw string, fold, lenient bool) []refReading {
	readings := []refReading{{refRemoveDotSegments(refNormalizeEscapes(raw)), true}}
	if lenient {
		readings = append(readings, refReading{refLenient(raw), false})
	}
	var out []refReading
	for _, r := range readings {
		if fold {
			r.path = refFold(r.path)
		}
		out = append(out, r)
		if len(r.path) > 1 && strings.HasSuffix(r.path, "/") {
			out = append(out, refReading{strings.TrimSuffix(r.path, "/"), r.escaped})
		}
	}
	return out
}

// refReading is one reading of a path: escaped (URL.EscapedPath) or decoded (URL.Path).
type refReading struct {
	path    string
	escaped bool
}

// refLenient reads raw as a lenient upstream does.
func refLenient(raw string) string {
	lenient := refDecodeAll(refDecodeAll(raw))
	lenient = strings.ReplaceAll(lenient, `\`, "/")
	segs := strings.Split(lenient, "/")
	kept := segs[:0]
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			s = s[:j]
		}
		if s != "" || i == len(segs)-1 {
			kept = append(kept, s)
		}
	}
	return refRemoveDotSegments("/" + strings.Join(kept, "/"))
}

// refFoldRoute lower-cases the host and literal path segments of a route, keeping the method
// and wildcards.
func refFoldRoute(route string) string {
	method, rest, ok := strings.Cut(route, " ")
	if !ok {
		method, rest = "", route
	} else {
		method += " "
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			segs[i] = strings.ToLower(s)
		}
	}
	return method + strings.Join(segs, "/")
}

// fuzzPlan is one example plan with an http.ServeMux of its routes (the oracle of which route
// a reading lands on) and the instants at which one of its features is retired and the service
// is not.
type fuzzPlan struct {
	name     string
	pol      *policy.Policy
	routes   []string       // every route, for building paths
	features map[string]int // ServeMux pattern → feature index
	mux      *http.ServeMux
	instants []time.Time
	fold     bool
	// lenient: the plan refuses ambiguous paths, so that a lenient upstream's reading of what
	// is forwarded must not land on a retired route either. A plan that allows them accepts
	// that risk; only RFC 3986's reading binds it.
	lenient bool
}

func loadFuzzPlans(t testing.TB) []*fuzzPlan {
	t.Helper()
	names, err := fs.Glob(examples.Files, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type source struct {
		name string
		data []byte
	}
	var sources []source
	for _, name := range names {
		data, _ := examples.Files.ReadFile(name)
		sources = append(sources, source{name, data})
		if name == "api-v2.yaml" {
			// The plan options, each on its own.
			for _, opt := range []string{"{case_sensitive_paths: true}", "{allow_ambiguous_paths: true}"} {
				sources = append(sources, source{name + " with " + opt,
					[]byte(strings.Replace(string(data), "service:\n", "service:\n  gateway: "+opt+"\n", 1))})
			}
		}
	}
	var plans []*fuzzPlan
	for _, src := range sources {
		name, data := src.name, src.data
		p, problems := plan.Parse(name, data)
		if err := problems.Err(); err != nil {
			t.Fatal(err)
		}
		pol, err := policy.Compile(p, policy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fp := &fuzzPlan{name: name, pol: pol, features: map[string]int{}, mux: http.NewServeMux(),
			fold: !p.Service.Gateway.CaseSensitivePaths, lenient: !p.Service.Gateway.AllowAmbiguousPaths}
		for i, f := range p.Features {
			for _, r := range f.Routes {
				fp.routes = append(fp.routes, r)
				pattern := r
				if fp.fold {
					pattern = refFoldRoute(r)
				}
				fp.features[pattern] = i
				fp.mux.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
			}
			gone := pol.Features()[i].Times.Gone
			if !gone.IsZero() && gone.Before(pol.Service().Times.Gone) {
				fp.instants = append(fp.instants, gone.Add(time.Minute))
			}
		}
		if len(fp.instants) > 0 {
			plans = append(plans, fp)
		}
	}
	if len(plans) < 4 {
		t.Fatalf("only %d example plans retire a feature before the service", len(plans))
	}
	return plans
}

// retiredReading returns a reading of raw that lands on a route of a feature retired at now,
// or "".
func (fp *fuzzPlan) retiredReading(method, raw string, now time.Time) string {
	for _, rr := range refReadings(raw, fp.fold, fp.lenient) {
		reading := rr.path
		if !strings.HasPrefix(reading, "/") {
			continue
		}
		for _, p := range []string{reading, reading + "/"} {
			u := &url.URL{Path: cleanKeepSlash(p)}
			if rr.escaped {
				var err error
				if u, err = url.ParseRequestURI(cleanKeepSlash(p)); err != nil {
					break
				}
			}
			req := &http.Request{Method: method, Host: "api.example.com", URL: u, Header: http.Header{}}
			_, pattern := fp.mux.Handler(req)
			i, ok := fp.features[pattern]
			if !ok {
				continue
			}
			if g := fp.pol.Features()[i].Times.Gone; !g.IsZero() && !now.Before(g) {
				return reading
			}
			break
		}
	}
	return ""
}

func cleanKeepSlash(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// spell builds a path from route (its wildcards filled in) and rewrites it by ops, two bytes an
// operation: what to do, and where.
func spell(route string, ops []byte) (method, raw string) {
	method, rest, ok := strings.Cut(route, " ")
	if !ok || strings.HasPrefix(method, "/") {
		method, rest = http.MethodGet, route
	}
	p := rest[strings.IndexByte(rest, '/'):]
	segs := strings.Split(p, "/")
	for i, s := range segs {
		switch {
		case s == "{$}":
			segs[i] = ""
		case strings.HasSuffix(s, "...}"):
			segs[i] = "a/b"
		case strings.HasPrefix(s, "{"):
			segs[i] = "42"
		}
	}
	p = strings.Join(segs, "/")
	slashAt := func(pos byte) int {
		var idx []int
		for i := 0; i < len(p); i++ {
			if p[i] == '/' {
				idx = append(idx, i)
			}
		}
		return idx[int(pos)%len(idx)]
	}
	for k := 0; k+1 < len(ops) && k < 32 && len(p) < 300; k += 2 {
		op, pos := ops[k], ops[k+1]
		at := int(pos) % len(p)
		switch op % 13 {
		case 0: // flip case
			if c := p[at]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
				p = p[:at] + string(c^0x20) + p[at+1:]
			}
		case 1: // escape one character
			if c := p[at]; c != '/' && c != '%' {
				hex := "0123456789ABCDEF"
				if op&0x10 != 0 {
					hex = "0123456789abcdef"
				}
				p = p[:at] + "%" + string(hex[c>>4]) + string(hex[c&15]) + p[at+1:]
			}
		case 2: // an empty segment
			i := slashAt(pos)
			p = p[:i] + "/" + p[i:]
		case 3: // a dot segment
			i := slashAt(pos)
			p = p[:i] + "/." + p[i:]
		case 4: // a segment and a dot-dot, or an empty one
			i := slashAt(pos)
			p = p[:i] + []string{"/zz/..", "//..", "/zz//..", "/..//"}[int(op>>4)%4] + p[i:]
		case 5: // an escaped dot segment
			i := slashAt(pos)
			p = p[:i] + []string{"/%2e", "/.%2E", "/%2E%2e", "/zz/%2e%2e", "/zz/..%2f..", "/zz/%2e."}[int(op>>4)%6] + p[i:]
		case 6: // a ;parameter
			i := slashAt(pos)
			if i == 0 {
				i = len(p)
			}
			p = p[:i] + ";p=1" + p[i:]
		case 7: // toggle the trailing slash
			if strings.HasSuffix(p, "/") && len(p) > 1 {
				p = p[:len(p)-1]
			} else {
				p += "/"
			}
		case 8: // a separator spelled otherwise
			i := slashAt(pos)
			if i > 0 {
				p = p[:i] + []string{"%2f", "%2F", `\`, "%5c", "%5C"}[int(op>>4)%5] + p[i+1:]
			}
		case 9: // double escape
			if i := strings.IndexByte(p[at:], '%'); i >= 0 {
				p = p[:at+i] + "%25" + p[at+i+1:]
			}
		case 10: // a letter that folds onto an ASCII one
			if i := strings.IndexAny(p[at:], "sSkK"); i >= 0 {
				repl := "%C5%BF"
				if c := p[at+i]; c == 'k' || c == 'K' {
					repl = "%E2%84%AA"
				}
				p = p[:at+i] + repl + p[at+i+1:]
			}
		case 11: // dot-dot with a parameter (Tomcat's "..;")
			i := slashAt(pos)
			p = p[:i] + "/zz/..;x" + p[i:]
		case 12: // another method
			method = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete}[int(op>>4)%4]
		}
	}
	return method, p
}

// checkSpelling sends the spelling through the gateway of fp at now and fails if a retired
// route's reading was forwarded.
func checkSpelling(t *testing.T, fp *fuzzPlan, now time.Time, method, raw string) {
	t.Helper()
	u, err := url.ParseRequestURI(raw)
	if err != nil || u.Path == "" || u.RawQuery != "" || u.Fragment != "" {
		return // net/http answers 400 itself, or not a path
	}
	forwarded := ""
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { forwarded = r.URL.EscapedPath() })
	gw := New(fp.pol, Options{Clock: sunset.NewFixedClock(now)})
	req := &http.Request{Method: method, Host: "api.example.com", URL: u, RequestURI: raw, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	rec := httptest.NewRecorder()
	gw.Wrap(next).ServeHTTP(rec, req)
	reading := fp.retiredReading(method, u.EscapedPath(), now)
	if reading != "" {
		switch {
		case forwarded != "":
			t.Fatalf("%s: %s %s reads %q, a retired route, and was forwarded as %q", fp.name, method, raw, reading, forwarded)
		case rec.Code != http.StatusGone && rec.Code != http.StatusBadRequest && rec.Code != http.StatusPermanentRedirect:
			t.Fatalf("%s: %s %s reads %q, a retired route, and was answered %d", fp.name, method, raw, reading, rec.Code)
		}
	}
	if forwarded != "" {
		// What is forwarded reads one way only: canonical, nothing left to decode differently.
		if again := fp.retiredReading(method, forwarded, now); again != "" {
			t.Fatalf("%s: %s %s was forwarded as %q, which reads %q, a retired route", fp.name, method, raw, forwarded, again)
		}
	}
}

func FuzzRetiredRoutesStayRetired(f *testing.F) {
	plans := loadFuzzPlans(f)
	f.Add(uint8(0), uint8(0), uint8(0), []byte{})
	f.Add(uint8(0), uint8(0), uint8(0), []byte{0, 1, 0, 2, 7, 0})
	f.Add(uint8(0), uint8(0), uint8(0), []byte{5, 2, 8, 1, 6, 1})
	f.Add(uint8(1), uint8(0), uint8(1), []byte{4, 3, 11, 1, 1, 5, 10, 0})
	f.Add(uint8(1), uint8(1), uint8(0), []byte{12 | 0x20, 0, 7, 0, 9, 0, 1, 2})
	f.Fuzz(func(t *testing.T, planIdx, instantIdx, routeIdx uint8, ops []byte) {
		fp := plans[int(planIdx)%len(plans)]
		now := fp.instants[int(instantIdx)%len(fp.instants)]
		method, raw := spell(fp.routes[int(routeIdx)%len(fp.routes)], ops)
		checkSpelling(t, fp, now, method, raw)
	})
}

// TestReferenceNormalizerFollowsRFC3986 checks the reference on the RFC's own examples
// (§5.2.4, §5.4) before it judges the gateway.
func TestReferenceNormalizerFollowsRFC3986(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b/c/./../../g":   "/a/g",
		"mid/content=5/../6": "mid/6",
		"/b/c/./g":           "/b/c/g",
		"/b/c/../g":          "/b/g",
		"/b/c/..":            "/b/",
		"/b/c/../..":         "/",
		"/b/c/../../../g":    "/g",
		"/b/c/g/./h":         "/b/c/g/h",
	} {
		if got := refRemoveDotSegments(in); got != want {
			t.Errorf("remove_dot_segments(%q) = %q, want %q", in, got, want)
		}
	}
	if got := refNormalizeEscapes("/%7euser/%2e/a%2fb/%c3%a9"); got != "/~user/./a%2Fb/%C3%A9" {
		t.Errorf("escapes: %q", got)
	}
	if got := refFold("/Report\u017f/\u212aey"); got != "/reports/key" {
		t.Errorf("fold: %q", got)
	}
}
