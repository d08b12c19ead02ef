// Package router turns the routes that modules contribute into one gorilla/mux router. Routes
// are data: sorted and checked for duplicates here, each with a per-IP rate limit and the
// request schema of its OpenAPI operation.
package router

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/schema"
)

// Route is one endpoint a module serves.
type Route struct {
	Name   string // "<module>.<action>", the key of rate-limit overrides
	Method string
	// Path is a gorilla/mux template, e.g. /tokens/api-key/{key_id}. A variable may carry a
	// pattern ({rest:.*} spans slashes); the operation documents it without one (/x/{rest}).
	Path        string
	OperationID string // the operation in the module's OpenAPI fragment; "" only if Undocumented
	// Undocumented marks operational routes the contract does not list (/openapi.json, /metrics).
	Undocumented bool
	// Limit is the default per-client-IP rule ("10/minute"); "none" for probes that must never be refused.
	Limit string
	// LimitAs, when set, names the limit instead of Name: its per-client bucket and its
	// override (ratelimit.routes.<LimitAs>). Routes that serve one endpoint under several
	// methods or paths share it, so that a client cannot multiply its allowance by them.
	LimitAs string
	// Headers are set on every answer of the route, refusals and 429s included (e.g.
	// Cache-Control: no-store where a cached answer would outlive a revocation).
	Headers http.Header
	Guards  []httpx.Guard
	Handler httpx.HandlerFunc
}

// NoLimit exempts probes (health, metrics) from per-IP limits.
const NoLimit = "none"

// Options are the router's collaborators.
type Options struct {
	Doc     *openapi.Document
	Limiter ratelimit.Limiter
	// Batched, when set, serves the routes named in BatchedRoutes: local decisions merged into
	// the shared counters every few milliseconds, for hot routes where a round trip per request
	// would dominate.
	Batched       ratelimit.Limiter
	BatchedRoutes map[string]bool
	Override      func(routeName string) string // configured rule for a route, "" for the default
	Log           *zap.Logger
	OnLimited     func(r *http.Request, route string) // observability hook, may be nil
}

// Compiled is a route ready to serve, kept for inspection (tests walk it).
type Compiled struct {
	Route
	Rule    *ratelimit.Rule
	limiter ratelimit.Limiter
	info    *httpx.RouteInfo
	params  []*compiledParam
	// keyPrefix starts the route's limiter keys ("route:<name>:"), built once.
	keyPrefix string
}

type compiledParam struct {
	name  string
	check *schema.Param
}

// Build validates and registers routes. Any inconsistency (duplicate route, unknown operation,
// missing limit, bad rule) is an error at start, not a surprise in production.
func Build(routes []Route, o Options) (http.Handler, []*Compiled, error) {
	sorted := append([]Route(nil), routes...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Path != sorted[j].Path {
			return sorted[i].Path < sorted[j].Path
		}
		return sorted[i].Method < sorted[j].Method
	})
	var errs []string
	seen := map[string]string{}
	names := map[string]bool{}
	var compiled []*Compiled
	for _, rt := range sorted {
		c, err := compile(rt, o)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		key := rt.Method + " " + rt.Path
		if other, dup := seen[key]; dup {
			errs = append(errs, fmt.Sprintf("route %s: %s already served by %s", rt.Name, key, other))
			continue
		}
		if names[rt.Name] {
			errs = append(errs, fmt.Sprintf("route name %s used twice", rt.Name))
			continue
		}
		seen[key], names[rt.Name] = rt.Name, true
		compiled = append(compiled, c)
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("router: %s", strings.Join(errs, "; "))
	}
	m := mux.NewRouter()
	m.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	m.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": "Method Not Allowed"})
	})
	t := &table{static: map[string]map[string]http.Handler{}, mux: m}
	for _, c := range compiled {
		h := serve(c, o)
		// Path before Methods: gorilla/mux 1.8.1 clears a method mismatch when a later route's
		// method matcher succeeds first, which would turn 405s into 404s.
		m.Path(c.Path).Methods(c.Method).Name(c.Name).Handler(h)
		if !strings.Contains(c.Path, "{") {
			if t.static[c.Path] == nil {
				t.static[c.Path] = map[string]http.Handler{}
			}
			t.static[c.Path][c.Method] = h
		}
	}
	return t, compiled, nil
}

// table serves routes without path variables by an exact lookup, and everything else (path
// variables, 404, 405, unclean paths) through gorilla/mux. mux tries each route's regexp in
// turn and copies the request twice to attach its vars and route: for /tokens/verify, the
// platform's hottest path, that was a quarter of the in-process cost. An exact hit is a path
// mux would match the same way (a registered template is a clean path).
type table struct {
	static map[string]map[string]http.Handler // path → method → handler
	mux    *mux.Router
}

func (t *table) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := t.static[r.URL.Path][r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	t.mux.ServeHTTP(w, r)
}

func compile(rt Route, o Options) (*Compiled, error) {
	if rt.Name == "" || rt.Method == "" || rt.Path == "" || rt.Handler == nil {
		return nil, fmt.Errorf("route %q: name, method, path and handler are required", rt.Name)
	}
	limitName := rt.Name
	if rt.LimitAs != "" {
		limitName = rt.LimitAs
	}
	c := &Compiled{Route: rt, info: &httpx.RouteInfo{Name: rt.Name, Template: rt.Path}, keyPrefix: "route:" + limitName + ":"}
	rule := rt.Limit
	if o.Override != nil {
		if v := o.Override(limitName); v != "" {
			rule = v
		}
	}
	switch rule {
	case "":
		return nil, fmt.Errorf("route %s: no rate limit (use router.NoLimit to exempt a probe)", rt.Name)
	case NoLimit:
	default:
		r, err := ratelimit.ParseRule(rule)
		if err != nil {
			return nil, fmt.Errorf("route %s: rate limit %q: %w", rt.Name, rule, err)
		}
		c.Rule = &r
		c.limiter = o.Limiter
		if o.Batched != nil && o.BatchedRoutes[limitName] {
			c.limiter = o.Batched
		}
	}
	if rt.Undocumented {
		return c, nil
	}
	op, ok := o.Doc.Operations[rt.OperationID]
	if !ok {
		return nil, fmt.Errorf("route %s: operation %q is not in any enabled module's OpenAPI fragment", rt.Name, rt.OperationID)
	}
	if op.Method != rt.Method || op.Path != DocumentedPath(rt.Path) {
		return nil, fmt.Errorf("route %s: serves %s %s but operation %s documents %s %s", rt.Name, rt.Method, rt.Path, op.ID, op.Method, op.Path)
	}
	if op.Body != nil {
		b, err := schema.CompileBodySchema(op.Doc, op.Body)
		if err != nil {
			return nil, fmt.Errorf("route %s: request schema: %w", rt.Name, err)
		}
		c.info.Body = b
	}
	for _, p := range op.Params {
		if p.In != "path" {
			continue
		}
		pc, err := schema.CompileParamIn(op.Doc, p.In, p.Name, p.Schema)
		if err != nil {
			return nil, fmt.Errorf("route %s: parameter %s: %w", rt.Name, p.Name, err)
		}
		c.params = append(c.params, &compiledParam{name: p.Name, check: pc})
	}
	return c, nil
}

// DocumentedPath is a template as OpenAPI writes it: each variable's pattern dropped
// ("/auth/forward/{rest:.*}" → "/auth/forward/{rest}").
func DocumentedPath(template string) string {
	if !strings.Contains(template, ":") {
		return template
	}
	var b strings.Builder
	depth, skipping := 0, false
	for _, r := range template {
		switch {
		case r == '{':
			depth++
			if depth == 1 {
				skipping = false
			}
		case r == '}':
			depth--
			if depth == 0 {
				skipping = false
			}
		case r == ':' && depth == 1:
			skipping = true
		}
		if !skipping || (r == '}' && depth == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// serve runs, in order: guards (authentication before the limiter, so unauthenticated
// callers cannot spend an admin route's bucket), the per-IP limit, path parameters, handler.
func serve(c *Compiled, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, m := httpx.WithMeta(r)
		m.Route = c.info
		for k, v := range c.Headers {
			w.Header()[k] = v
		}
		if err := run(c, o, w, r); err != nil {
			httpx.WriteError(w, r, o.Log, err)
		}
	})
}

func run(c *Compiled, o Options, w http.ResponseWriter, r *http.Request) error {
	for _, g := range c.Guards {
		next, err := g(r)
		if err != nil {
			return err
		}
		r = next
	}
	if c.Rule != nil {
		if err := limit(c, o, r); err != nil {
			return err
		}
	}
	if len(c.params) > 0 {
		vars := mux.Vars(r)
		var issues []schema.Issue
		for _, p := range c.params {
			issues = append(issues, p.check.Check(vars[p.name])...)
		}
		if len(issues) > 0 {
			return &httpx.ValidationError{Issues: issues}
		}
	}
	return c.Handler(w, r)
}

func limit(c *Compiled, o Options, r *http.Request) error {
	var buf [96]byte
	key := string(appendClientKey(append(buf[:0], c.keyPrefix...), r))
	res, err := c.limiter.Allow(r.Context(), key, *c.Rule)
	if err != nil {
		return httpx.Unavailable("Rate limiter unavailable", err)
	}
	if !res.Allowed {
		if o.OnLimited != nil {
			o.OnLimited(r, c.Name)
		}
		return httpx.TooManyRequests(fmt.Sprintf("Rate limit exceeded: %s", c.Rule), res.RetryAfter)
	}
	return nil
}

// ClientKey names the caller for per-IP limits: the resolved client IP (IPv6 grouped by /64),
// or the raw peer address when it cannot be parsed — never one shared bucket.
func ClientKey(r *http.Request) string { return string(appendClientKey(nil, r)) }

func appendClientKey(b []byte, r *http.Request) []byte {
	if ip := httpx.ClientIP(r.Context()); ip.IsValid() {
		return ratelimit.AppendIPKey(append(b, "ip:"...), ip)
	}
	return append(append(b, "peer:"...), r.RemoteAddr...)
}
