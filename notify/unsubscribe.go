package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// UnsubscribePath is where one-click unsubscribe links point under Sunset's public URL:
// UnsubscribePath + token.
const UnsubscribePath = "/unsubscribe/"

// ErrBadToken is returned for an unsubscribe token that was not signed with the key: changed,
// forged or truncated.
var ErrBadToken = errors.New("notify: the unsubscribe link is not valid")

// unsubscribeMACLen is how many bytes of the HMAC a token carries: 128 bits.
const unsubscribeMACLen = 16

// maxTokenLen bounds the tokens OpenUnsubscribeToken reads.
const maxTokenLen = 1024

// SuppressionAddress is the address an unsubscribe of r suppresses: the email, lower-cased, or
// the recipient id when r has no email (the suppression list matches both).
func SuppressionAddress(r Recipient) string {
	if r.Email != "" {
		return strings.ToLower(strings.TrimSpace(r.Email))
	}
	return r.ID
}

// UnsubscribeToken signs address with key (HMAC-SHA256): base64url(address) "." base64url(mac).
// The token never expires: an unsubscribe link must work as long as the mail is read.
func UnsubscribeToken(key []byte, address string) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(address))
	return payload + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(key, payload))
}

// OpenUnsubscribeToken checks token against key and returns the address it names, or
// ErrBadToken.
func OpenUnsubscribeToken(key []byte, token string) (string, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > maxTokenLen || len(key) == 0 {
		return "", ErrBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, unsubscribeMAC(key, payload)) {
		return "", ErrBadToken
	}
	addr, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(addr) == 0 {
		return "", ErrBadToken
	}
	return string(addr), nil
}

func unsubscribeMAC(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("sunset-unsubscribe\x00" + payload))
	return h.Sum(nil)[:unsubscribeMACLen]
}

// UnsubscribeURL is r's one-click unsubscribe link under publicURL, signed with key; empty when
// key is empty (nothing could honour the link).
func UnsubscribeURL(publicURL string, key []byte, r Recipient) string {
	if len(key) == 0 {
		return ""
	}
	if publicURL == "" {
		publicURL = defaultPublicURL
	}
	return strings.TrimRight(publicURL, "/") + UnsubscribePath + UnsubscribeToken(key, SuppressionAddress(r))
}
