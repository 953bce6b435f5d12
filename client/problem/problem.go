package problem

import (
	"net/http"
	"strings"

	"github.com/sunsetops/sunset"
)

// Codes of problems that only HTTP has. They sit in the same table as the sunset error codes so
// that every status the server answers is chosen in one place.
const (
	CodeTooLarge         = "too_large"          // the request body is over its limit
	CodeMethodNotAllowed = "method_not_allowed" // the path exists, the method does not
	CodeUnavailable      = "unavailable"        // the server is not ready to serve
	CodeTooMany          = "too_many_requests"  // a client is over its rate limit
	// CodeForbidden is a known caller whose role is too low, or a form without its token.
	CodeForbidden = "forbidden"
	// CodeUnsupportedMedia is a body of a type the route does not take.
	CodeUnsupportedMedia = "unsupported_media_type"
)

// ProblemTypeBase is the base of every problem's type URI; the code is its fragment. The page
// documents each type for people who follow the link.
const ProblemTypeBase = "https://github.com/sunsetops/sunset/blob/main/docs/problems.md#"

// problemKind is one row of the table: the HTTP status of a code, the problem's title, and the
// sunset code a Go client reports for it.
type problemKind struct {
	status int
	title  string
	// clientCode is the sunset error code the Client gives errors of this kind.
	clientCode string
}

// problemKinds maps error codes to HTTP statuses and titles. It is the only place where a code
// becomes a status; the Client reads it backwards.
var problemKinds = map[string]problemKind{
	sunset.EINVALID:      {http.StatusBadRequest, "Invalid request", sunset.EINVALID},
	sunset.EUNAUTHORIZED: {http.StatusUnauthorized, "Unauthorized", sunset.EUNAUTHORIZED},
	CodeForbidden:        {http.StatusForbidden, "Forbidden", sunset.EUNAUTHORIZED},
	CodeUnsupportedMedia: {http.StatusUnsupportedMediaType, "Unsupported media type", sunset.EINVALID},
	sunset.ENOTFOUND:     {http.StatusNotFound, "Not found", sunset.ENOTFOUND},
	CodeMethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed", sunset.EINVALID},
	sunset.ECONFLICT:     {http.StatusConflict, "Conflict with the current state", sunset.ECONFLICT},
	CodeTooLarge:         {http.StatusRequestEntityTooLarge, "Request body too large", sunset.EINVALID},
	sunset.EINTERNAL:     {http.StatusInternalServerError, "Internal server error", sunset.EINTERNAL},
	CodeUnavailable:      {http.StatusServiceUnavailable, "Not ready", sunset.EINTERNAL},
	CodeTooMany:          {http.StatusTooManyRequests, "Too many requests", sunset.EINVALID},
	// The database cannot be written (sunset.UnwritableError): nothing of the request was
	// stored, and the same request succeeds once the cause is fixed.
	sunset.EFULL:       {http.StatusInsufficientStorage, "The database's disk is full", sunset.EFULL},
	sunset.EUNWRITABLE: {http.StatusServiceUnavailable, "The database cannot be written", sunset.EUNWRITABLE},
}

// ContentType is the media type of problem details (RFC 9457).
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object, as the server writes it and client.Client reads it.
// It is also the error the Client returns for a non-2xx answer.
type Problem struct {
	// Type is a URI naming the kind of problem; its fragment is Code.
	Type string `json:"type"`
	// Title is a short summary of the kind of problem, the same for every occurrence.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence in a sentence.
	Detail string `json:"detail,omitempty"`
	// Code is the error code: invalid, not_found, conflict, unauthorized, internal, too_large,
	// method_not_allowed, unavailable, or storage_full / storage_unwritable (the database cannot
	// be written).
	Code string `json:"code"`
	// Errors are further lines, one per problem: for an invalid plan, every
	// "FILE:LINE:COL: path: message".
	Errors []string `json:"errors,omitempty"`
}

// Error returns the detail (or the title) followed by each of Errors on its own line, so that
// printing the error shows every plan problem.
func (p *Problem) Error() string {
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if len(p.Errors) == 0 {
		return msg
	}
	return msg + "\n" + strings.Join(p.Errors, "\n")
}

// Unwrap returns the problem as a *sunset.Error, so that sunset.ErrorCode and errors.As work on
// errors the Client returns: Message is the detail and Details are the problem's errors.
func (p *Problem) Unwrap() error {
	code := sunset.EINTERNAL
	if k, ok := problemKinds[p.Code]; ok {
		code = k.clientCode
	} else if c := codeForStatus(p.Status); c != "" {
		code = c
	}
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	return &sunset.Error{Code: code, Message: msg, Details: p.Errors}
}

// codeForStatus returns the sunset code the table gives status, or "" when no row has it. 503
// is unavailable (the storage failures' row shares it).
func codeForStatus(status int) string {
	if status == http.StatusServiceUnavailable {
		return problemKinds[CodeUnavailable].clientCode
	}
	for _, k := range problemKinds {
		if k.status == status {
			return k.clientCode
		}
	}
	return ""
}

// NewProblem builds the problem document for code, as the server writes it, with detail and details. Unknown codes are internal.
func NewProblem(code, detail string, details []string) *Problem {
	k, ok := problemKinds[code]
	if !ok {
		code, k = sunset.EINTERNAL, problemKinds[sunset.EINTERNAL]
	}
	return &Problem{
		Type:   ProblemTypeBase + code,
		Title:  k.title,
		Status: k.status,
		Detail: detail,
		Code:   code,
		Errors: details,
	}
}

// KnownCode reports whether code has a row in the problem table.
func KnownCode(code string) bool {
	_, ok := problemKinds[code]
	return ok
}
