package httpx

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// WriteHTML writes a rendered page: HTML in lang, varying by Accept-Language, with the cache
// policy cache and the security headers secure sets (its Content-Security-Policy above all).
func WriteHTML(w http.ResponseWriter, status int, lang, cache string, body []byte, secure func(http.Header)) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	h.Set("Cache-Control", cache)
	h.Set("X-Content-Type-Options", "nosniff")
	secure(h)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// SetPageSecurity sets the headers of a public HTML page: a strict Content-Security-Policy that
// allows only the page's own nonce-bearing style block and same-origin forms, nothing from
// elsewhere, no script, no framing.
func SetPageSecurity(h http.Header, nonce string) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// Nonce returns a fresh random CSP nonce.
func Nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
