// Package httpx is the HTTP vocabulary every module shares: handlers that return errors, the
// contract's FastAPI-shaped error bodies, strict request binding and small middleware.
package httpx

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/schema"
)

// Error is an answer in the contract's {"detail": "..."} shape.
type Error struct {
	Status     int
	Detail     string
	RetryAfter time.Duration // sent as Retry-After (whole seconds, at least 1) when > 0
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Detail, e.cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Detail)
}

// Unwrap exposes the internal cause for logs; it never reaches the client.
func (e *Error) Unwrap() error { return e.cause }

// RetryAfterSeconds rounds up so a client never retries too early.
func (e *Error) RetryAfterSeconds() string {
	s := int64((e.RetryAfter + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// ValidationError is a 422 in FastAPI's {"detail": [...]} shape.
type ValidationError struct {
	Issues []schema.Issue
}

func (e *ValidationError) Error() string {
	if len(e.Issues) == 0 {
		return "422 validation error"
	}
	return fmt.Sprintf("422 validation error: %s %v", e.Issues[0].Type, e.Issues[0].Loc)
}

// Unauthorized is a 401; the writer adds WWW-Authenticate: Bearer.
func Unauthorized(detail string) *Error { return &Error{Status: 401, Detail: detail} }

// Forbidden is a 403: authenticated but not allowed.
func Forbidden(detail string) *Error { return &Error{Status: 403, Detail: detail} }

// NotFound is a 404 for a resource the caller may know exists.
func NotFound(detail string) *Error { return &Error{Status: 404, Detail: detail} }

// Gone is a 410, for one-time links that can no longer be used.
func Gone(detail string) *Error { return &Error{Status: 410, Detail: detail} }

// TooManyRequests is a 429 with Retry-After.
func TooManyRequests(detail string, retryAfter time.Duration) *Error {
	return &Error{Status: 429, Detail: detail, RetryAfter: retryAfter}
}

// Unavailable is a 503: a dependency is down. cause is logged, never shown.
func Unavailable(detail string, cause error) *Error {
	return &Error{Status: 503, Detail: detail, cause: cause}
}

// Invalid builds a 422 with one issue, for rules a schema cannot express.
func Invalid(loc []any, msg, typ string, input any) *ValidationError {
	return &ValidationError{Issues: []schema.Issue{{Loc: loc, Msg: msg, Type: typ, Input: input}}}
}

// AsError reports whether err carries a client-facing *Error.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
