package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
	"github.com/sunsetops/sunset/client/problem"
)

// MaxJSONBody is the largest JSON request body accepted.
const MaxJSONBody = 64 << 10

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ReadJSON decodes r's body into dst strictly (see DecodeJSON), refusing bodies over 64 KiB.
func ReadJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return DecodeJSON(http.MaxBytesReader(w, r.Body, MaxJSONBody), dst)
}

// DecodeJSON reads one JSON object from body into dst, strictly: unknown fields, wrong types,
// anything after the object and a value that is not an object are EINVALID errors that say what
// was wrong. An empty body leaves dst unchanged (every field is optional at this level). A body
// over the reader's http.MaxBytesReader limit is a too_large error.
func DecodeJSON(body io.Reader, dst any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return sunset.Errorf(problem.CodeTooLarge, "The request body is larger than %d bytes.", tooLarge.Limit)
		}
		return sunset.Errorf(sunset.EINVALID, "Cannot read the request body: %v.", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] != '{' {
		return sunset.Errorf(sunset.EINVALID, "The request body must be a JSON object such as {\"reason\": \"...\"}.")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return sunset.Errorf(sunset.EINVALID, "The request body must hold one JSON object and nothing after it.")
	}
	return nil
}

// jsonError turns an encoding/json error into an EINVALID error a person can act on.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return sunset.Errorf(sunset.EINVALID, "The request body is not valid JSON: %v (at byte %d).", syntax, syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return sunset.Errorf(sunset.EINVALID, "In the request body, %s must be a %s, not a JSON %s.", field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return sunset.Errorf(sunset.EINVALID, "The request body ends in the middle of its JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return sunset.Errorf(sunset.EINVALID, "The request body has an %s.", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return sunset.Errorf(sunset.EINVALID, "The request body is not valid JSON: %v.", err)
	}
}

// CheckText refuses a text field longer than max characters, or one holding control characters
// other than newlines and tabs.
func CheckText(field, v string, max int) error {
	if n := len([]rune(v)); n > max {
		return sunset.Errorf(sunset.EINVALID, "%s is %d characters long; the limit is %d.", field, n, max)
	}
	for _, c := range v {
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return sunset.Errorf(sunset.EINVALID, "%s holds a control character (%U).", field, c)
		}
	}
	return nil
}
