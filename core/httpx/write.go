package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core/outage"
)

// HandlerFunc is a handler that returns its failure; WriteError turns it into the contract's body.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// WriteJSON writes v with status. Encoding errors can only come from programming mistakes;
// they are logged by the caller's recovery, not here.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`)
	}
	w.Header()["Content-Type"] = JSONContentType
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// JSONContentType is the Content-Type header value of every JSON answer, shared (assigned to
// the header map directly, it costs no allocation per answer; net/http never mutates it).
var JSONContentType = []string{"application/json"}

// StatusClientClosedRequest is nginx's status for a request its client abandoned before the
// answer; it is only ever recorded, never received.
const StatusClientClosedRequest = 499

type detailBody struct {
	Detail string `json:"detail"`
}

// WriteError answers err in the contract's shape. An outage of the database or Redis that no
// handler turned into an answer is a 503, as NOTES.md wants of a dependency that is down. Other
// unknown errors are a 500. The cause of either is logged with the request id, never sent.
func WriteError(w http.ResponseWriter, r *http.Request, log *zap.Logger, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		// The client closed its request (net/http cancels the request's context then; a graceful
		// stop does not): no answer reaches it, and whatever failed inside is no failure of ours.
		// nginx's 499 keeps it out of the 5xx that alerts watch, in metrics and the access log.
		if log != nil {
			log.Debug("request abandoned by its client", zap.String("request_id", RequestID(r.Context())), zap.Error(err))
		}
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		WriteJSON(w, http.StatusUnprocessableEntity, struct {
			Detail any `json:"detail"`
		}{ve.Issues})
		return
	}
	if e, ok := AsError(err); ok {
		if e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		if e.RetryAfter > 0 || e.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", e.RetryAfterSeconds())
		}
		if e.Status >= 500 && log != nil {
			logFailure(log, r, e.Status, e.Unwrap())
		}
		WriteJSON(w, e.Status, detailBody{e.Detail})
		return
	}
	if _, ok := outage.Of(err); ok {
		if log != nil {
			logFailure(log, r, http.StatusServiceUnavailable, err)
		}
		WriteJSON(w, http.StatusServiceUnavailable, detailBody{"Service temporarily unavailable; try again later"})
		return
	}
	if log != nil {
		log.Error("unhandled error", zap.String("request_id", RequestID(r.Context())), zap.Error(err))
	}
	WriteJSON(w, http.StatusInternalServerError, detailBody{"Internal Server Error"})
}

// logFailure logs a 5xx answer once, naming the dependency when an outage caused it. A request
// its client abandoned is no failure of ours (its dependency call was interrupted, not refused):
// it is logged at debug level only.
func logFailure(log *zap.Logger, r *http.Request, status int, cause error) {
	fields := make([]zap.Field, 0, 4)
	fields = append(fields, zap.Int("status", status), zap.String("request_id", RequestID(r.Context())))
	if dep, ok := outage.Of(cause); ok {
		fields = append(fields, zap.String("dependency", dep))
	}
	fields = append(fields, zap.Error(cause))
	if outage.CallerGone(r.Context(), cause) {
		log.Debug("request abandoned by its client", fields...)
		return
	}
	log.Error("dependency failure", fields...)
}
