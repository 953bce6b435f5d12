package policy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFormatSunsetWritesAnIMFFixdate(t *testing.T) {
	got, err := FormatSunset(time.Date(2027, 3, 15, 2, 0, 0, 0, shanghai))
	if err != nil || got != "Sun, 14 Mar 2027 18:00:00 GMT" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := FormatSunset(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a five-digit year is not an HTTP-date")
	}
}

func TestFormatDeprecationWritesAStructuredDate(t *testing.T) {
	got, err := FormatDeprecation(time.Unix(1767225600, 999))
	if err != nil || got != "@1767225600" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestFormatLinksEscapesWhatAURICannotHold(t *testing.T) {
	got := FormatLinks([]Link{{URI: "https://x/a b>\r\n<c", Rel: `dep"rec`, Type: "text/html"}, {URI: "", Rel: "sunset"}})
	want := `<https://x/a%20b%3E%0D%0A%3Cc>; rel="deprec"; type="text/html"`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func FuzzFormatHeaders(f *testing.F) {
	f.Add(int64(1767225600), "https://example.com/migrate", "deprecation")
	f.Add(int64(-62135596800), "", "sunset")
	f.Add(int64(253402300800), "\x00<>\"", "a b")
	f.Fuzz(func(t *testing.T, unix int64, uri, rel string) {
		tm := time.Unix(unix, 0)
		if v, err := FormatDeprecation(tm); err == nil {
			n, perr := strconv.ParseInt(strings.TrimPrefix(v, "@"), 10, 64)
			if v[0] != '@' || perr != nil || n != unix {
				t.Errorf("Deprecation %q does not read back as @%d", v, unix)
			}
		}
		if v, err := FormatSunset(tm); err == nil {
			back, perr := time.Parse(http.TimeFormat, v)
			if perr != nil || !back.Equal(tm) || len(v) != len(http.TimeFormat) {
				t.Errorf("Sunset %q does not read back as %v: %v", v, tm.UTC(), perr)
			}
		} else if y := tm.UTC().Year(); y >= 0 && y <= 9999 {
			t.Errorf("year %d refused: %v", y, err)
		}
		v := FormatLinks([]Link{{URI: uri, Rel: rel, Type: "text/html"}})
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
				t.Fatalf("Link %q holds byte %#x", v, c)
			}
		}
		if v != "" && (strings.Count(v, "<") != 1 || strings.Count(v, ">") != 1 || strings.Count(v, `"`)%2 != 0) {
			t.Errorf("Link %q is not one well-formed link", v)
		}
	})
}
