package httpx

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"
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

type detailBody struct {
	Detail string `json:"detail"`
}

// WriteError answers err in the contract's shape. Unknown errors are a 500 whose cause is
// logged with the request id and never sent to the client.
func WriteError(w http.ResponseWriter, r *http.Request, log *zap.Logger, err error) {
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
			log.Error("dependency failure", zap.Int("status", e.Status), zap.String("request_id", RequestID(r.Context())), zap.Error(e.Unwrap()))
		}
		WriteJSON(w, e.Status, detailBody{e.Detail})
		return
	}
	if log != nil {
		log.Error("unhandled error", zap.String("request_id", RequestID(r.Context())), zap.Error(err))
	}
	WriteJSON(w, http.StatusInternalServerError, detailBody{"Internal Server Error"})
}
