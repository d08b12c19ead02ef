package forwardauth

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/verify"
)

// Identity headers of a 200, for the gateway to copy onto the upstream request. A header is
// absent when the credential has no such fact (an API key has no role, a token no MFA time).
const (
	HeaderSubject       = "X-Auth-Subject"
	HeaderRole          = "X-Auth-Role"
	HeaderEventID       = "X-Auth-Event-Id"
	HeaderTokenType     = "X-Auth-Token-Type"      //nolint:gosec // a header name, not a credential
	HeaderMFAVerifiedAt = "X-Auth-Mfa-Verified-At" // canonical form of X-Auth-MFA-Verified-At
)

// Path is the endpoint nginx auth_request and Traefik ForwardAuth call; Envoy ext_authz calls
// Path followed by the client's own path.
const Path = "/auth/forward"

// limitName is the one per-client bucket (and override key, ratelimit.routes.forward_auth.check)
// of every method and path served here.
const limitName = "forward_auth.check"

// methods are those a gateway forwards: nginx and Envoy ask with the client's method.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// Messages: the guards' (FastAPI's) where the meaning is the same.
const (
	msgNotAuthenticated = "Not authenticated"
	msgBadCredentials   = "Could not validate credentials"
	msgWrongType        = "Token type not accepted here"
	msgForbidden        = "Not enough permissions"
	msgMFAStale         = "MFA verification required: verify a TOTP code within the freshness window"
)

// Params are the routes' dependencies: the check POST /tokens/verify makes, and the MFA
// freshness window of the guards.
type Params struct {
	fx.In
	Checker *verify.Checker
	Guards  *auth.Guards
}

type handler struct{ Params }

// NewRoutes serves every method on Path and below it, with one shared limit.
func NewRoutes(p Params) []router.Route {
	h := handler{p}
	noStore := http.Header{"Cache-Control": {"no-store"}}
	var routes []router.Route
	for _, m := range methods {
		lower := strings.ToLower(m)
		routes = append(routes,
			router.Route{Name: "forward_auth.check." + lower, Method: m, Path: Path, OperationID: "forward_auth_forward_" + lower,
				Limit: "600/minute", LimitAs: limitName, Headers: noStore, Handler: h.check},
			router.Route{Name: "forward_auth.check_path." + lower, Method: m, Path: Path + "/{rest:.*}", OperationID: "forward_auth_forward__rest__" + lower,
				Limit: "600/minute", LimitAs: limitName, Headers: noStore, Handler: h.check},
		)
	}
	return routes
}

// check answers 200 with the identity headers, or refuses. It never answers 2xx without a
// verified credential: a dependency that is down is a 503, which nginx turns into a 500.
func (h handler) check(w http.ResponseWriter, r *http.Request) error {
	req, err := requirementsOf(r)
	if err != nil {
		return err
	}
	token, ok := bearer(r)
	if !ok {
		return httpx.Unauthorized(msgNotAuthenticated)
	}
	res, err := h.Checker.Check(r.Context(), token)
	if err != nil {
		return httpx.Unavailable("Token verification unavailable", err)
	}
	if !res.Valid {
		return httpx.Unauthorized(msgBadCredentials)
	}
	id := identityOf(res)
	if !slices.Contains(req.types, id.typ) {
		return httpx.Unauthorized(msgWrongType)
	}
	if len(req.roles) > 0 && !slices.Contains(req.roles, id.role) {
		return httpx.Forbidden(msgForbidden)
	}
	if req.mfa && (res.JWT == nil || !h.Guards.MFAFresh(res.JWT)) {
		return httpx.Forbidden(msgMFAStale)
	}
	id.write(w.Header())
	w.WriteHeader(http.StatusOK)
	return nil
}

// requirementsOf reads the options: from the query on Path itself, from OptionsHeader below it.
func requirementsOf(r *http.Request) (requirements, error) {
	raw, where := r.URL.RawQuery, "query"
	if r.URL.Path != Path {
		raw, where = r.Header.Get(OptionsHeader), "header"
	}
	req, issues := parseOptions(raw, where)
	if len(issues) > 0 {
		return requirements{}, &httpx.ValidationError{Issues: issues}
	}
	return req, nil
}

func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// identity is what the upstream learns of the caller.
type identity struct {
	subject, role, typ, eventID, mfaAt string
}

func identityOf(res verify.Result) identity {
	if c := res.JWT; c != nil {
		id := identity{subject: c.Subject, role: c.Role, typ: c.Type}
		if c.EventID != nil {
			id.eventID = strconv.FormatInt(*c.EventID, 10)
		}
		if c.MFAVerifiedAt != nil {
			id.mfaAt = strconv.FormatInt(*c.MFAVerifiedAt, 10)
		}
		return id
	}
	return identity{
		subject: text(res.Claims["sub"]),
		role:    text(res.Claims["role"]),
		typ:     text(res.Claims["type"]),
		eventID: text(res.Claims["event_id"]),
	}
}

// text renders a claim a verifier reported: strings and integers, nil and others as "".
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case *int64:
		if x != nil {
			return strconv.FormatInt(*x, 10)
		}
	case float64: // claims that went through JSON (a shared cache)
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func (id identity) write(h http.Header) {
	for _, kv := range [...]struct{ k, v string }{
		{HeaderSubject, id.subject}, {HeaderRole, id.role}, {HeaderEventID, id.eventID},
		{HeaderTokenType, id.typ}, {HeaderMFAVerifiedAt, id.mfaAt},
	} {
		if kv.v != "" {
			h[kv.k] = []string{kv.v}
		}
	}
}
