package policy

import "bytes"

// This file turns a request's escaped path into the one canonical spelling the policy decides
// on and the gateway forwards, so that a retired route stays retired however its path is
// written. Upstreams read paths loosely (Express, Spring, ASP.NET and nginx setups ignore case
// or a trailing slash, decode %2e and %2f, strip ;parameters); deciding on one strict reading
// and forwarding exactly that reading leaves them nothing to read differently.
//
// The canonical path (RFC 3986 §6.2.2 and §5.2.4):
//
//   - starts with "/"; empty segments ("//") are dropped;
//   - ";parameters" are cut from every segment (Tomcat, Spring and Jetty ignore them); a segment
//     that would become empty or a dot segment by the cut (";x", "..;x") is ambiguous;
//   - escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded, other escapes keep
//     their byte with upper-case hex digits;
//   - "." and ".." segments are removed as remove_dot_segments does; a path that ends in one
//     keeps its trailing slash ("/a/b/.." is "/a/"). A ".." after an empty segment
//     ("/a/b//../c") is ambiguous: RFC 3986 removes the empty segment, path.Clean and nginx
//     the one before it;
//   - letter case is kept: routes match it regardless of case unless the plan says the service
//     is case-sensitive (matcher.fold).
//
// A path whose meaning depends on who decodes it is ambiguous: an escaped "/" or "\" inside a
// segment (one more segment for some upstreams), an escaped ";" (a parameter once decoded), a
// dot segment written with escapes ("%2e%2e"), an escaped "%" ("%252f" is "%2f" once decoded), a
// raw "\" (a separator to IIS and ASP.NET), and, when routes match regardless of case, a
// letter outside ASCII that folds onto an ASCII one ("ſ" is "S" to .NET, the Kelvin sign "K" is
// "k", the Turkish "İ" and "ı" are "i" and "I" in some locales). Such a path is refused (400) unless the plan allows
// ambiguous paths; then escapes are data and encoded dots are dots. A malformed escape ("%zz"),
// or NUL or another control character, raw or escaped, is always refused: no service reads it
// one way for sure.

// pathVerdict is what canonicalPath thinks of a path.
type pathVerdict uint8

const (
	// pathOK: the canonical path is decided on and forwarded.
	pathOK pathVerdict = iota
	// pathAmbiguous: the path reads differently to different decoders (refused unless allowed).
	pathAmbiguous
	// pathMalformed: a broken escape or a control character; always refused.
	pathMalformed
)

// pathOptions are the plan's reading of paths.
type pathOptions struct {
	// allowAmbiguous decides ambiguous spellings instead of refusing them.
	allowAmbiguous bool
	// fold: routes match regardless of case.
	fold bool
}

// canonicalPath returns the canonical form of the escaped path p (URL.EscapedPath). When p is
// already canonical it returns p itself after one scan, without allocating. plain reports that
// the canonical path holds no escape and no upper-case letter, which spares the matcher a look
// at each segment.
func canonicalPath(p string, o pathOptions) (canonical string, plain bool, v pathVerdict) {
	if ok, upper := isCanonical(p); ok {
		return p, !upper, pathOK
	}
	if p == "*" {
		return p, true, pathOK // OPTIONS *: the server, not a path
	}
	var buf [256]byte
	out, emptyDots, v := appendCanonical(buf[:0], p, o, false)
	if v != pathOK {
		return "", false, v
	}
	if emptyDots {
		// "/a/b//../c" is "/a/c" to path.Clean and nginx, which drop the empty segment first,
		// and "/a/b/c" to RFC 3986, where ".." removes the empty segment.
		var buf2 [256]byte
		rfc, _, _ := appendCanonical(buf2[:0], p, o, true)
		if string(rfc) != string(out) {
			if !o.allowAmbiguous {
				return "", false, pathAmbiguous
			}
			out = rfc
		}
	}
	if string(out) != p {
		p = string(out)
	}
	return p, false, pathOK
}

// isCanonical reports, in one scan, whether p is canonical as it stands: rooted, no escape, no
// ";", no "\", no control character, no empty or dot segment; and whether it holds an
// upper-case letter.
func isCanonical(p string) (ok, upper bool) {
	if p == "" || p[0] != '/' {
		return false, false
	}
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case 'A' <= c && c <= 'Z':
			upper = true
		case c == '%' || c == ';' || c == '\\' || c < 0x20 || c == 0x7f:
			return false, false
		case c == '/' && p[i-1] == '/':
			return false, false
		case c == '.' && p[i-1] == '/':
			end := i + 1
			if end < len(p) && p[end] == '.' {
				end++
			}
			if end == len(p) || p[end] == '/' {
				return false, false
			}
		}
	}
	return true, upper
}

// appendCanonical appends the canonical form of p to out, segment by segment. Empty segments
// are dropped as they come, as path.Clean and nginx do; with rfc they are kept while dot
// segments are removed, as RFC 3986 §5.2.4 does, and dropped at the end. emptyDots reports that
// the two may differ: a ".." came after an empty segment.
func appendCanonical(out []byte, p string, o pathOptions, rfc bool) (res []byte, emptyDots bool, v pathVerdict) {
	sawEmpty := false
	allowAmbiguous := o.allowAmbiguous
	out = append(out, '/')
	if p != "" && p[0] == '/' {
		p = p[1:]
	}
	for {
		seg, rest, more := p, "", false
		for i := 0; i < len(p); i++ {
			if p[i] == '/' {
				seg, rest, more = p[:i], p[i+1:], true
				break
			}
		}
		seg, v = cutParams(seg, o)
		if v != pathOK {
			return nil, false, v
		}
		start := len(out)
		var escaped bool
		out, escaped, v = appendSegment(out, seg, o)
		if v != pathOK {
			return nil, false, v
		}
		switch string(out[start:]) {
		case "", ".", "..":
			if escaped && len(out) > start && !allowAmbiguous {
				return nil, false, pathAmbiguous // "%2e" or ".%2E": a dot segment to some decoders only
			}
			dots := len(out) - start
			out = out[:start]
			switch {
			case dots == 0 && more:
				sawEmpty = true
				if rfc {
					out = append(out, '/')
				}
			case dots == 2:
				emptyDots = emptyDots || sawEmpty
				if len(out) > 1 {
					// Remove the last segment written: out ends with "/seg/" (or "//" for an
					// empty one).
					i := len(out) - 2
					for out[i] != '/' {
						i--
					}
					out = out[:i+1]
				}
			}
		default:
			if more {
				out = append(out, '/')
			}
		}
		if !more {
			if rfc {
				// Drop the empty segments kept for dot-segment removal.
				w := 1
				for i := 1; i < len(out); i++ {
					if out[i] != '/' || out[w-1] != '/' {
						out[w] = out[i]
						w++
					}
				}
				out = out[:w]
			}
			return out, emptyDots, pathOK
		}
		p = rest
	}
}

// cutParams cuts ";parameters" from seg; a raw ";" is always a parameter separator here. What is
// cut must not read otherwise either: "..;x%2Fphotos" is "../photos" to a service that decodes
// before it cuts parameters.
func cutParams(seg string, o pathOptions) (string, pathVerdict) {
	for i := 0; i < len(seg); i++ {
		if seg[i] == ';' {
			if v := paramsVerdict(seg[i:], o); v != pathOK {
				return "", v
			}
			if dotsOrEmpty(seg[:i]) {
				// ";x", ".;x" and "..;x" are an empty or dot segment to a service that cuts
				// parameters (Tomcat's "..;" bypass) and a named one to any other.
				if !o.allowAmbiguous {
					return "", pathAmbiguous
				}
				return seg, pathOK // kept whole, as RFC 3986 reads it
			}
			return seg[:i], pathOK
		}
	}
	return seg, pathOK
}

// appendSegment appends the segment seg (parameters cut) to out with escapes of unreserved
// characters decoded and other escapes in upper-case hex; escaped reports that seg held an
// escape.
func appendSegment(out []byte, seg string, o pathOptions) (res []byte, escaped bool, v pathVerdict) {
	start := len(out)
	high := false
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c == '%':
			if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
				return nil, false, pathMalformed
			}
			b := unhex(seg[i+1])<<4 | unhex(seg[i+2])
			i += 2
			escaped = true
			switch {
			case b < 0x20 || b == 0x7f:
				return nil, false, pathMalformed
			case unreserved(b):
				out = append(out, b)
				continue
			case b == '/' || b == '\\' || b == ';':
				if !o.allowAmbiguous {
					return nil, false, pathAmbiguous
				}
			case b == '%':
				// "%252f" is "%2f" to a service that decodes twice, and so is
				// "%25%32f": any escaped "%" may start an escape once decoded.
				if !o.allowAmbiguous {
					return nil, false, pathAmbiguous
				}
			}
			high = high || b >= 0x80
			out = append(out, '%', upperHex[b>>4], upperHex[b&15])
		case c < 0x20 || c == 0x7f:
			return nil, false, pathMalformed
		case c == '\\':
			if !o.allowAmbiguous {
				return nil, false, pathAmbiguous
			}
			out = append(out, "%5C"...)
		default:
			out = append(out, c)
		}
	}
	if high && o.fold && !o.allowAmbiguous && foldsOntoASCII(out[start:]) {
		return nil, false, pathAmbiguous
	}
	return out, escaped, pathOK
}

// dotsOrEmpty reports whether name is "", "." or "..", with dots raw or escaped.
func dotsOrEmpty(name string) bool {
	dots := 0
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '.':
		case name[i] == '%' && i+2 < len(name) && name[i+1] == '2' && (name[i+2] == 'e' || name[i+2] == 'E'):
			i += 2
		default:
			return false
		}
		dots++
	}
	return dots <= 2
}

// paramsVerdict judges the ";parameters" cut from a segment as appendCanonical judges a
// segment: ambiguous escapes and "\" are ambiguous, broken escapes and control characters
// malformed.
func paramsVerdict(params string, o pathOptions) pathVerdict {
	for i := 0; i < len(params); i++ {
		c := params[i]
		switch {
		case c == '%':
			if i+2 >= len(params) || !isHex(params[i+1]) || !isHex(params[i+2]) {
				return pathMalformed
			}
			b := unhex(params[i+1])<<4 | unhex(params[i+2])
			switch {
			case b < 0x20 || b == 0x7f:
				return pathMalformed
			case (b == '/' || b == '\\' || b == ';' || b == '%') && !o.allowAmbiguous:
				return pathAmbiguous
			}
			i += 2
		case c < 0x20 || c == 0x7f:
			return pathMalformed
		case c == '\\' && !o.allowAmbiguous:
			return pathAmbiguous
		}
	}
	return pathOK
}

const upperHex = "0123456789ABCDEF"

// foldsOntoASCII reports whether the escaped segment seg (upper-case hex) holds the UTF-8 of a
// letter that case-insensitive comparisons may take for an ASCII one: U+017F ſ (S), U+212A
// Kelvin sign (k), U+0130 İ and U+0131 ı (i, I).
func foldsOntoASCII(seg []byte) bool {
	for _, s := range [...]string{"%C5%BF", "%E2%84%AA", "%C4%B0", "%C4%B1"} {
		if bytes.Contains(seg, []byte(s)) {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unreserved reports whether c is an RFC 3986 unreserved character, whose escape means the
// character itself.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
