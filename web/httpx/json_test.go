package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client"
	"github.com/sunsetops/sunset/client/problem"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantReason string
		wantCode   string
		wantIn     string
	}{
		{"an empty body is an empty request", "", "", "", ""},
		{"spaces are an empty request", " \n\t", "", "", ""},
		{"an object is read", `{"reason":"freeze"}`, "freeze", "", ""},
		{"an empty object is read", `{}`, "", "", ""},
		{"surrounding spaces are fine", "\n {\"reason\":\"x\"} \n", "x", "", ""},
		{"unknown fields are refused", `{"reason":"x","force":true}`, "", sunset.EINVALID, `unknown field "force"`},
		{"wrong types are refused", `{"reason":["x"]}`, "", sunset.EINVALID, "reason must be a string"},
		{"trailing objects are refused", `{"reason":"x"}{}`, "", sunset.EINVALID, "nothing after it"},
		{"trailing garbage is refused", `{"reason":"x"} garbage`, "", sunset.EINVALID, "nothing after it"},
		{"null is refused", `null`, "", sunset.EINVALID, "must be a JSON object"},
		{"strings are refused", `"x"`, "", sunset.EINVALID, "must be a JSON object"},
		{"syntax errors say where", `{"reason" "x"}`, "", sunset.EINVALID, "at byte"},
		{"truncated JSON is refused", `{"reason":"x"`, "", sunset.EINVALID, "ends in the middle"},
		{"bodies over the limit are too large", `{"reason":"` + strings.Repeat("x", MaxJSONBody) + `"}`, "", problem.CodeTooLarge, "larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req client.TransitionRequest
			err := DecodeJSON(http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(tt.body)), MaxJSONBody), &req)
			if got := sunset.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q, want %q (%v)", got, tt.wantCode, err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("error %q lacks %q", err, tt.wantIn)
			}
			if err == nil && req.Reason != tt.wantReason {
				t.Fatalf("reason %q, want %q", req.Reason, tt.wantReason)
			}
		})
	}
}

// FuzzDecodeReason feeds arbitrary bodies to the strict JSON decoder of the transition routes: it
// must never panic, must refuse with an invalid or too_large error only, and must accept only
// valid JSON objects.
func FuzzDecodeReason(f *testing.F) {
	for _, seed := range []string{
		"", "{}", `{"reason":"freeze"}`, `{"reason":"冻结期"}`, `{"reason":"x","y":1}`, `{"reason":1}`,
		`{"reason":"x"}{}`, `[]`, `null`, `{"reason":"\ud800"}`, `{"reason":"a\u0000b"}`, "\xff\xfe",
		`{"Reason":"case"}`, `{"reason":"x",}`, `{"reason":"` + strings.Repeat("x", 100) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req client.TransitionRequest
		err := DecodeJSON(http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(data)), 1024), &req)
		if err != nil {
			code := sunset.ErrorCode(err)
			if code != sunset.EINVALID && code != problem.CodeTooLarge {
				t.Fatalf("code %s for %q: %v", code, data, err)
			}
			if sunset.ErrorMessage(err) == "" {
				t.Fatalf("empty message for %q", data)
			}
			p := ProblemFor(err)
			if p.Status != http.StatusBadRequest && p.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d for %q", p.Status, data)
			}
			return
		}
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 {
			return
		}
		if len(data) > 1024 {
			t.Fatalf("accepted %d bytes over the 1024-byte limit", len(data))
		}
		if !json.Valid(trimmed) || trimmed[0] != '{' {
			t.Fatalf("accepted %q, which is not a JSON object", data)
		}
		_ = CheckText("reason", req.Reason, 2000)
	})
}
