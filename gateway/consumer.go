package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/sunsetops/sunset/plan"
)

// maxConsumerLen bounds a consumer id taken from a request, so that a caller cannot make the
// usage counters hold huge keys.
const maxConsumerLen = 128

// Identifier names the consumer of a request by the plan's rule: a header (an API key), a hash
// of the bearer token, a cookie, a query parameter, or the client IP. The zero rule means by IP.
type Identifier struct {
	// Rule is the plan's consumers.identify.
	Rule plan.Identify
	// TrustedProxies are the peers whose X-Forwarded-For is believed. A request from any other
	// peer is named by its own address, whatever it claims.
	TrustedProxies []netip.Prefix

	// headerKey is Rule.Header in canonical form, computed once by newIdentifier so that a
	// request's header is found with one map lookup, without canonicalizing (and allocating)
	// the name per request. Empty means "compute it".
	headerKey string
}

// newIdentifier returns the Identifier of rule with its header name canonicalized once.
func newIdentifier(rule plan.Identify, trusted []netip.Prefix) Identifier {
	return Identifier{Rule: rule, TrustedProxies: trusted, headerKey: textproto.CanonicalMIMEHeaderKey(rule.Header)}
}

// header returns the first value of the header named by the rule.
func (id *Identifier) header(h http.Header) string {
	key := id.headerKey
	if key == "" {
		key = textproto.CanonicalMIMEHeaderKey(id.Rule.Header)
	}
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Identify returns the consumer of r, "" when the rule finds nothing (no header, no token).
// Bearer tokens are never kept: the id is "bearer:" and the first 16 hex digits of the token's
// SHA-256.
func (id *Identifier) Identify(r *http.Request) string {
	switch rule := id.Rule; {
	case rule.Header != "":
		return bound(id.header(r.Header))
	case rule.Bearer:
		var auth string
		if vs := r.Header["Authorization"]; len(vs) > 0 {
			auth = vs[0]
		}
		if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
			return ""
		}
		token := strings.TrimSpace(auth[7:])
		if token == "" {
			return ""
		}
		sum := sha256.Sum256([]byte(token))
		return "bearer:" + hex.EncodeToString(sum[:8])
	case rule.Cookie != "":
		c, err := r.Cookie(rule.Cookie)
		if err != nil {
			return ""
		}
		return bound(c.Value)
	case rule.Query != "":
		return bound(r.URL.Query().Get(rule.Query))
	default:
		return id.ClientIP(r)
	}
}

// ClientIP returns the address of the client: the peer's, or, when the peer is a trusted proxy,
// the right-most address of X-Forwarded-For that is not itself a trusted proxy.
func (id *Identifier) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return bound(host)
	}
	peer = peer.Unmap()
	if !id.trusted(peer) {
		return peer.String()
	}
	client := peer
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return client.String()
			}
			client = a.Unmap()
			if !id.trusted(client) {
				return client.String()
			}
		}
	}
	return client.String()
}

func (id *Identifier) trusted(a netip.Addr) bool {
	for _, p := range id.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// bound cuts an id to maxConsumerLen bytes.
func bound(s string) string {
	if len(s) > maxConsumerLen {
		return s[:maxConsumerLen]
	}
	return s
}

// ParseTrustedProxies reads CIDRs or single addresses ("10.0.0.0/8", "127.0.0.1").
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
