// Package outage names the failures of the service's own infrastructure (the database, Redis):
// calls that failed because the dependency was unreachable, too slow or unable to serve, as
// opposed to a business answer (no such row, a duplicate, a missing key) or a caller that gave
// up. The stores mark such failures with *Error and count each once at their single seam
// (core/store's error mapping, the Redis client's hook in core/state), so the HTTP layer can
// answer 503 whatever handler the failure crossed, and log it once with the dependency named.
package outage

import (
	"context"
	"errors"
)

// Dependency names, also the values of cashless_auth_dependency_errors_total's label.
const (
	Database = "database"
	Redis    = "redis"
)

// Error is a call that failed because Dependency could not serve it.
type Error struct {
	Dependency string
	Err        error
}

func (e *Error) Error() string { return e.Dependency + " unavailable: " + e.Err.Error() }

// Unwrap exposes the driver's error, for errors.Is and the logs.
func (e *Error) Unwrap() error { return e.Err }

// Of returns the dependency whose failure err carries, if any.
func Of(err error) (dependency string, ok bool) {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Dependency, true
	}
	return "", false
}

// CallerGone reports whether a call failed because its caller gave up: ctx was cancelled (the
// client closed its request, the service is stopping) or the error is that cancellation. Such a
// failure is nobody's outage, whatever the driver made of the interruption (lib/pq reports the
// cancel request it sent as a "query canceled" error, modernc's SQLite as an interrupt).
// context.DeadlineExceeded is not the caller's: deadlines are the service's own timeouts, and a
// dependency that outlived one is too slow.
func CallerGone(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) {
		return true
	}
	return ctx != nil && errors.Is(ctx.Err(), context.Canceled)
}
