package export

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Errors of Links.Open: a link whose signature does not match (changed, forged, another
// sunset's) and a link past its expiry.
var (
	ErrTampered = errors.New("export: the download link is not valid")
	ErrExpired  = errors.New("export: the download link has expired")
)

// MinKeyLen is the shortest link key accepted, in bytes.
const MinKeyLen = 16

// Links issues and checks download links. A link names one sunset and one user and expires at
// Expires; it is signed with HMAC-SHA256 under Key, so it cannot be changed to name another
// user or a later expiry.
type Links struct {
	Key []byte
	// Base is the public URL of sunset serve, e.g. https://sunset.example.com.
	Base    string
	Expires time.Time
}

type claims struct {
	User    string `json:"u"`
	Expires int64  `json:"e"`
}

func (l *Links) mac(sunset, payload string) []byte {
	h := hmac.New(sha256.New, l.Key)
	h.Write([]byte("sunset-export-link\x00" + sunset + "\x00" + payload))
	return h.Sum(nil)
}

// Token returns the signed token of userID's link.
func (l *Links) Token(sunset, userID string) string {
	b, _ := json.Marshal(claims{User: userID, Expires: l.Expires.Unix()})
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(l.mac(sunset, payload))
}

// URL returns userID's download link: Base/exports/SUNSET/TOKEN.
func (l *Links) URL(sunset, userID string) string {
	return strings.TrimSuffix(l.Base, "/") + "/exports/" + url.PathEscape(sunset) + "/" + l.Token(sunset, userID)
}

// Open checks token for sunset at now and returns the user it names. It returns ErrTampered
// for a token that is malformed or not signed by Key for this sunset, and ErrExpired for a
// genuine token past its expiry.
func (l *Links) Open(sunset, token string, now time.Time) (string, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return "", ErrTampered
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, l.mac(sunset, payload)) {
		return "", ErrTampered
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", ErrTampered
	}
	var c claims
	if err := json.Unmarshal(b, &c); err != nil || c.User == "" {
		return "", ErrTampered
	}
	if !now.Before(time.Unix(c.Expires, 0)) {
		return c.User, ErrExpired
	}
	return c.User, nil
}
