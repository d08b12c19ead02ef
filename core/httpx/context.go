package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"

	"github.com/cashlessmedia/cashless-auth/core/schema"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	clientIPKey
	routeKey
)

// RouteInfo is what the router knows about the matched route, for logs and binding.
type RouteInfo struct {
	Name     string       // "<module>.<action>"
	Template string       // path template; logged instead of the raw path so secrets in paths stay out
	Body     *schema.Body // request schema from the module's OpenAPI operation, nil if none
}

// WithRequestID stores the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id, "" outside a request.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// WithClientIP stores the resolved client address.
func WithClientIP(ctx context.Context, ip netip.Addr) context.Context {
	return context.WithValue(ctx, clientIPKey, ip)
}

// ClientIP is the client address resolved through trusted proxies.
func ClientIP(ctx context.Context) netip.Addr {
	ip, _ := ctx.Value(clientIPKey).(netip.Addr)
	return ip
}

// WithRoute stores the matched route.
func WithRoute(ctx context.Context, ri *RouteInfo) context.Context {
	return context.WithValue(ctx, routeKey, ri)
}

// Route returns the matched route, nil when none matched.
func Route(ctx context.Context) *RouteInfo {
	ri, _ := ctx.Value(routeKey).(*RouteInfo)
	return ri
}

// Bind reads the body and decodes it into dst after validating it against the route's
// schema; a violation is a 422 in FastAPI's shape. Callers pre-fill defaults in dst.
func Bind(r *http.Request, dst any) error {
	ri := Route(r.Context())
	if ri == nil || ri.Body == nil {
		return errors.New("httpx: Bind on a route without a request schema")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Detail: "Request body too large"}
		}
		return &Error{Status: http.StatusBadRequest, Detail: "Could not read request body"}
	}
	if issues := ri.Body.Decode(body, dst); issues != nil {
		return &ValidationError{Issues: issues}
	}
	return nil
}

const routeHolderKey ctxKey = 100

// withRouteHolder lets outer middleware (logs, metrics) learn which route matched: the router
// runs deeper and fills the holder in place.
func withRouteHolder(ctx context.Context, h *RouteInfo) context.Context {
	return context.WithValue(ctx, routeHolderKey, h)
}

// NoteRoute records the matched route for outer middleware.
func NoteRoute(ctx context.Context, ri *RouteInfo) {
	if h, ok := ctx.Value(routeHolderKey).(*RouteInfo); ok {
		h.Name, h.Template = ri.Name, ri.Template
	}
}

// Guard admits a request or refuses it with an error; it may enrich the request's context
// (for example with the authenticated principal).
type Guard func(r *http.Request) (*http.Request, error)
