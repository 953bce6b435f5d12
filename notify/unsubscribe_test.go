package notify

import "testing"

func TestUnsubscribeTokenNamesItsAddressOnlyUnderItsKey(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	tok := UnsubscribeToken(key, "ops@acme.example.com")
	if got, err := OpenUnsubscribeToken(key, tok); err != nil || got != "ops@acme.example.com" {
		t.Fatalf("open = %q, %v", got, err)
	}
	for name, bad := range map[string]string{
		"another key":     UnsubscribeToken([]byte("another key of thirty-two bytes!"), "ops@acme.example.com"),
		"changed address": UnsubscribeToken(key, "x@evil.example")[:10] + tok[10:],
		"no signature":    "b3BzQGFjbWUuZXhhbXBsZS5jb20",
		"empty":           "",
		"garbage":         "%%%.%%%",
		"signature cut":   tok[:len(tok)-2],
	} {
		if _, err := OpenUnsubscribeToken(key, bad); err != ErrBadToken {
			t.Errorf("%s: err = %v, want ErrBadToken", name, err)
		}
	}
	if _, err := OpenUnsubscribeToken(nil, tok); err != ErrBadToken {
		t.Error("a server without a key accepted a token")
	}
}

func TestUnsubscribeLinkSuppressesTheEmailElseTheRecipientID(t *testing.T) {
	t.Parallel()
	if got := SuppressionAddress(Recipient{ID: "acme", Email: " Ops@Acme.Example.com"}); got != "ops@acme.example.com" {
		t.Errorf("with email: %q", got)
	}
	if got := SuppressionAddress(Recipient{ID: "hooli"}); got != "hooli" {
		t.Errorf("without email: %q", got)
	}
	if UnsubscribeURL("https://x", nil, Recipient{ID: "a"}) != "" {
		t.Error("a link without a key")
	}
}
