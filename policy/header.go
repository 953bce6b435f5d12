package policy

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names the gateway writes.
const (
	// HeaderDeprecation is RFC 9745's Deprecation header: a Structured Field Date, "@1767225600".
	HeaderDeprecation = "Deprecation"
	// HeaderSunset is RFC 8594's Sunset header: an HTTP-date (IMF-fixdate).
	HeaderSunset = "Sunset"
	// HeaderLink is RFC 8288's Link header.
	HeaderLink = "Link"
)

// imfFixdate is the IMF-fixdate layout of RFC 9110 section 5.6.7 (http.TimeFormat).
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// maxSFInteger is the largest magnitude of an RFC 9651 Integer (and so of a Date).
const maxSFInteger = 999_999_999_999_999

// FormatDeprecation writes t as an RFC 9745 Deprecation value: an RFC 9651 Date, "@" and the
// Unix seconds (sub-second parts are dropped, as the format has none). It fails for instants
// outside the range of a Structured Field Integer.
func FormatDeprecation(t time.Time) (string, error) {
	u := t.Unix()
	if u > maxSFInteger || u < -maxSFInteger {
		return "", errors.New("instant out of the range of a structured field date")
	}
	return "@" + strconv.FormatInt(u, 10), nil
}

// FormatSunset writes t as an RFC 8594 Sunset value: an IMF-fixdate in GMT, "Sun, 15 Mar 2027
// 02:00:00 GMT". It fails for years outside 0000-9999, which IMF-fixdate cannot write.
func FormatSunset(t time.Time) (string, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return "", errors.New("year out of the range of an HTTP-date")
	}
	return t.Format(imfFixdate), nil
}

// Link is one link of a Link header (RFC 8288).
type Link struct {
	// URI is the target; characters a URI may not hold are percent-encoded when written.
	URI string
	// Rel is the relation type: "deprecation", "sunset", "successor-version".
	Rel string
	// Type is the optional media type hint, "text/html".
	Type string
}

// FormatLinks writes links as one Link field value: `<URI>; rel="REL"; type="TYPE"`, joined
// by ", ". Links with an empty URI are left out. The result never holds a control character, so
// it is always a valid field value.
func FormatLinks(links []Link) string {
	var b strings.Builder
	for _, l := range links {
		if l.URI == "" || l.Rel == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('<')
		writeURI(&b, l.URI)
		b.WriteString(`>; rel="`)
		writeToken(&b, l.Rel)
		b.WriteByte('"')
		if l.Type != "" {
			b.WriteString(`; type="`)
			writeToken(&b, l.Type)
			b.WriteByte('"')
		}
	}
	return b.String()
}

// writeURI writes u percent-encoding every byte a URI-reference (RFC 3986) may not hold, such
// as spaces, controls, quotes, angle brackets and non-ASCII bytes.
func writeURI(b *strings.Builder, u string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(u); i++ {
		c := u[i]
		if uriByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// uriByte reports whether c may appear as itself in a URI-reference: unreserved, reserved, and
// "%" (an existing escape is kept).
func uriByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

// writeToken writes s keeping only the characters a quoted relation type or media type needs
// (letters, digits and "-.+/_"); others are dropped, so the quoted string stays well-formed.
func writeToken(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.+/_", c) >= 0 {
			b.WriteByte(c)
		}
	}
}
