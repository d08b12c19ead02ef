package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"sync"

	"github.com/cashlessmedia/cashless-auth/core/schema"
)

type ctxKey int

const metaKey ctxKey = 0

// Meta is what the middleware learns about a request (its id, the client address, the matched
// route), kept in one struct attached to the request's context once and filled in place: each
// r.WithContext copies the whole *http.Request, and /tokens/verify, the platform's hottest
// path, would otherwise pay one copy per middleware.
type Meta struct {
	ID       string
	ClientIP netip.Addr
	Route    *RouteInfo // nil until the router matched
	// header is the request's, kept by reference (no copy, no lookup on the hot path) for the
	// few readers of a header deep in a service (UserAgent).
	header http.Header
}

// RouteInfo is what the router knows about the matched route, for logs and binding.
type RouteInfo struct {
	Name     string       // "<module>.<action>"
	Template string       // path template; logged instead of the raw path so secrets in paths stay out
	Body     *schema.Body // request schema from the module's OpenAPI operation, nil if none
}

// WithMeta returns r with a Meta attached (r itself when it has one already) and that Meta.
func WithMeta(r *http.Request) (*http.Request, *Meta) {
	if m := MetaOf(r.Context()); m != nil {
		return r, m
	}
	m := &Meta{header: r.Header}
	return r.WithContext(context.WithValue(r.Context(), metaKey, m)), m
}

// MetaOf returns the request's Meta, nil outside a request.
func MetaOf(ctx context.Context) *Meta {
	m, _ := ctx.Value(metaKey).(*Meta)
	return m
}

// RequestID returns the request id, "" outside a request.
func RequestID(ctx context.Context) string {
	if m := MetaOf(ctx); m != nil {
		return m.ID
	}
	return ""
}

// ClientIP is the client address resolved through trusted proxies.
func ClientIP(ctx context.Context) netip.Addr {
	if m := MetaOf(ctx); m != nil {
		return m.ClientIP
	}
	return netip.Addr{}
}

// UserAgent is the request's User-Agent header as the client sent it (untrusted, unbounded
// but for the header size limit), "" outside a request.
func UserAgent(ctx context.Context) string {
	if m := MetaOf(ctx); m != nil && m.header != nil {
		return m.header.Get("User-Agent")
	}
	return ""
}

// Route returns the matched route, nil when none matched.
func Route(ctx context.Context) *RouteInfo {
	if m := MetaOf(ctx); m != nil {
		return m.Route
	}
	return nil
}

// Bind reads the body and decodes it into dst after validating it against the route's
// schema; a violation is a 422 in FastAPI's shape. Callers pre-fill defaults in dst. A body
// whose Content-Type FastAPI would not read as JSON (text/plain, forms) is a 422 too, so a web
// page cannot reach a handler with a cross-site request that needs no CORS preflight.
func Bind(r *http.Request, dst any) error {
	ri := Route(r.Context())
	if ri == nil || ri.Body == nil {
		return errors.New("httpx: Bind on a route without a request schema")
	}
	buf := bodyBufs.Get().(*[]byte)
	defer putBodyBuf(buf)
	body, err := readAll(r.Body, (*buf)[:0])
	*buf = body
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Detail: "Request body too large"}
		}
		return &Error{Status: http.StatusBadRequest, Detail: "Could not read request body"}
	}
	if issues := ri.Body.DecodeMedia(r.Header.Get("Content-Type"), body, dst); issues != nil {
		return &ValidationError{Issues: issues}
	}
	return nil
}

// Guard admits a request or refuses it with an error; it may enrich the request's context
// (for example with the authenticated principal).
type Guard func(r *http.Request) (*http.Request, error)

// Request bodies are read into pooled buffers: Decode copies what it keeps (strings, issue
// inputs), so the bytes are free again once it returns.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func putBodyBuf(b *[]byte) {
	if cap(*b) <= 64<<10 { // an occasional large body is not kept for ever
		bodyBufs.Put(b)
	}
}

// readAll is io.ReadAll appending to buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
