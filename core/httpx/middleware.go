package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws so that the first one is the outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// StatusRecorder remembers what a handler wrote, for logs and metrics.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
	Bytes  int
}

// WriteHeader records the status.
func (s *StatusRecorder) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusRecorder) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *StatusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// RequestIDs attaches the request's Meta (outermost, so every later middleware fills it in
// place), keeps a sane incoming X-Request-ID (from the ingress) or makes one, and echoes it.
func RequestIDs() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, m := WithMeta(r)
			m.ID = r.Header.Get("X-Request-ID")
			if !validRequestID(m.ID) {
				m.ID = newRequestID()
			}
			w.Header()["X-Request-Id"] = []string{m.ID}
			next.ServeHTTP(w, r)
		})
	}
}

// Request ids are a random per-process prefix and a counter: unique across replicas without
// reading the system's random source on every request.
var (
	ridPrefix  = func() string { var b [6]byte; _, _ = rand.Read(b[:]); return hex.EncodeToString(b[:]) + "-" }()
	ridCounter atomic.Uint64
)

func newRequestID() string {
	return ridPrefix + strconv.FormatUint(ridCounter.Add(1), 36)
}

// validRequestID accepts short printable ids only, so a client cannot inject log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ClientIPs resolves the client address once per request.
func ClientIPs(resolve func(*http.Request) netip.Addr) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r, m := WithMeta(r)
			m.ClientIP = resolve(r)
			next.ServeHTTP(w, r)
		})
	}
}

// Recover turns a panic into a logged 500 without the stack reaching the client.
func Recover(log *zap.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler { //nolint:errorlint // recover() returns the sentinel itself
						panic(p)
					}
					log.Error("panic serving request", zap.Any("panic", p), zap.String("request_id", RequestID(r.Context())), zap.Stack("stack"))
					WriteJSON(w, http.StatusInternalServerError, detailBody{"Internal Server Error"})
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// LimitBody caps request bodies; Bind answers 413 when a body is larger.
func LimitBody(maxBytes int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > maxBytes {
				WriteJSON(w, http.StatusRequestEntityTooLarge, detailBody{"Request body too large"})
				return
			}
			if r.ContentLength < 0 {
				// Chunked: count as it is read. With a Content-Length, net/http already stops
				// the body there, and it was checked above.
				r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Observer receives every finished request, for metrics.
type Observer func(route, method string, status int, d time.Duration)

// AccessLog logs one line per request and tells observe (may be nil). It logs the route
// template, never the raw path of a matched route (a reset token travels in one), and no
// header or body.
func AccessLog(log *zap.Logger, observe Observer) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &StatusRecorder{ResponseWriter: w}
			r, m := WithMeta(r)
			next.ServeHTTP(rec, r)
			holder := m.Route
			if holder == nil {
				holder = &unmatched
			}
			if rec.Status == 0 {
				rec.Status = http.StatusOK
			}
			if observe != nil {
				route := holder.Name
				if route == "" {
					route = "unmatched"
				}
				observe(route, r.Method, rec.Status, time.Since(start))
			}
			if !log.Core().Enabled(zap.InfoLevel) {
				return
			}
			path := holder.Template
			if path == "" {
				path = unmatchedPath(r.URL.Path)
			}
			log.Info("request",
				zap.String("method", r.Method),
				zap.String("path", path),
				zap.String("route", holder.Name),
				zap.Int("status", rec.Status),
				zap.Int("bytes", rec.Bytes),
				zap.Duration("duration", time.Since(start)),
				zap.String("ip", m.ClientIP.String()),
				zap.String("request_id", m.ID),
			)
		})
	}
}

var unmatched RouteInfo

// unmatchedPath keeps logs short and free of whatever a client put in an unknown URL.
func unmatchedPath(p string) string {
	if len(p) > 64 {
		return p[:64] + "…"
	}
	return p
}
