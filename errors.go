package sunset

import (
	"errors"
	"fmt"
)

// Error codes. They are few on purpose: every boundary (HTTP, CLI) maps them in one table.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says where
	ENOTFOUND     = "not_found"    // the named thing does not exist
	ECONFLICT     = "conflict"     // the request clashes with the current state
	EUNAUTHORIZED = "unauthorized" // who is asking is not known or not allowed
	EINTERNAL     = "internal"     // a bug or an outage; details are logged, not shown
)

// Error is an error meant to be shown to a user: Code says what kind, Message says it in a
// sentence. Internal errors are wrapped without this type and shown as a generic message.
type Error struct {
	Code    string
	Message string
	// Details, when set, are further lines shown with the message (e.g. every plan problem).
	Details []string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error,
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: an *Error's own message, or a generic
// sentence for internal errors (whose details belong in logs).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
