package intake

import (
	"strings"
	"testing"
)

func TestParseIntakeTokenRefusesMalformed(t *testing.T) {
	good := FormatToken(1799067660, make([]byte, MACLen))
	if tok, err := ParseToken(good); err != nil || tok.Issued != 1799067660 || len(tok.MAC) != MACLen {
		t.Fatalf("%q: %+v %v", good, tok, err)
	}
	mac := good[strings.LastIndex(good, ".")+1:]
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"only a version", "v1"},
		{"another version", "v2.1799067660." + mac},
		{"upper-case version", "V1.1799067660." + mac},
		{"no MAC", "v1.1799067660"},
		{"empty MAC", "v1.1799067660."},
		{"empty instant", "v1.." + mac},
		{"signed instant", "v1.+1799067660." + mac},
		{"negative instant", "v1.-1799067660." + mac},
		{"leading zero", "v1.01799067660." + mac},
		{"instant with a space", "v1.1799067660 ." + mac},
		{"hex instant", "v1.0x6b3a." + mac},
		{"instant too long", "v1.1234567890123." + mac},
		{"short MAC", "v1.1799067660." + mac[:20]},
		{"long MAC", "v1.1799067660." + mac + "AA"},
		{"padded MAC", "v1.1799067660." + mac + "=="},
		{"standard base64 MAC", "v1.1799067660." + strings.Repeat("+", 22)},
		{"non-canonical last character", "v1.1799067660." + mac[:21] + "B"},
		{"extra part", good + ".x"},
		{"too long", good + strings.Repeat("A", maxToken)},
		{"not UTF-8", "v1.1799067660.\xff\xfe"},
	} {
		if tok, err := ParseToken(tc.token); err == nil {
			t.Errorf("%s: %q parsed as %+v", tc.name, tc.token, tok)
		}
	}
}

// FuzzParseIntakeToken: no input panics, and whatever parses writes back to the same text, so
// that one token has one spelling.
func FuzzParseIntakeToken(f *testing.F) {
	f.Add(FormatToken(1799067660, make([]byte, MACLen)))
	f.Add("v1.0.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("v1..")
	f.Add("v1.99999999999.AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if back := FormatToken(tok.Issued, tok.MAC); back != s {
			t.Fatalf("%q parsed as %+v, which writes as %q", s, tok, back)
		}
	})
}
