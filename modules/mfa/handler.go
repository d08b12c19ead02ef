package mfa

import (
	"errors"
	"net/http"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// Params are the routes' dependencies.
type Params struct {
	fx.In
	Service *Service
	Guards  *auth.Guards
	Audit   *audit.Log
	Metrics *metrics.Metrics
}

type handlers struct{ Params }

// NewRoutes lists setup (30/min/IP), verify (10/min/IP) and the freshness probe. The contract
// states no limit for the probe; 60/min/IP is generous for a UI check before destructive actions.
func NewRoutes(p Params) []router.Route {
	h := handlers{p}
	admin := []httpx.Guard{p.Guards.Bearer(auth.RoleAdmin)}
	return []router.Route{
		{Name: "mfa.setup", Method: http.MethodPost, Path: "/admin/mfa/setup", OperationID: "mfa_setup_admin_mfa_setup_post", Limit: "30/minute", Guards: admin, Handler: h.setup},
		{Name: "mfa.verify", Method: http.MethodPost, Path: "/admin/mfa/verify", OperationID: "mfa_verify_admin_mfa_verify_post", Limit: "10/minute", Guards: admin, Handler: h.verify},
		{Name: "mfa.ping", Method: http.MethodGet, Path: "/admin/sensitive/ping", OperationID: "sensitive_ping_admin_sensitive_ping_get", Limit: "60/minute", Guards: []httpx.Guard{p.Guards.AdminMFAFresh()}, Handler: ping},
	}
}

const (
	msgBadCode     = "Invalid or already used MFA code"
	msgNotEnrolled = "MFA is not set up: call /admin/mfa/setup first"
	msgStepUp      = "MFA is active: verify a current code before replacing the secret"
	msgLocked      = "Too many failed MFA attempts; try again later"
	msgBadAdmin    = "Could not validate credentials"
)

func (h handlers) setup(w http.ResponseWriter, r *http.Request) error {
	c := auth.Claims(r.Context())
	ev := audit.Event{Name: "mfa.setup", Lane: "mfa", Actor: "admin:" + c.Subject}
	e, err := h.Service.Setup(r.Context(), c)
	switch {
	case err == nil:
		ev.Outcome = audit.Success
		h.Audit.Record(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, e)
		return nil
	case errors.Is(err, ErrStepUpRequired):
		ev.Outcome, ev.Reason = audit.Blocked, "mfa_not_fresh"
		h.Audit.Record(r.Context(), ev)
		return httpx.Forbidden(msgStepUp)
	case errors.Is(err, ErrUnknownAdmin):
		return httpx.Unauthorized(msgBadAdmin)
	default:
		return httpx.Unavailable("MFA temporarily unavailable", err)
	}
}

type verifyRequest struct {
	Code string `json:"code"`
}

func (h handlers) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	c := auth.Claims(r.Context())
	ev := audit.Event{Name: "mfa.verify", Lane: "mfa", Actor: "admin:" + c.Subject}
	pair, err := h.Service.Verify(r.Context(), c, req.Code)
	var locked *LockedError
	switch {
	case err == nil:
		ev.Outcome = audit.Success
		h.Audit.Login(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, pair)
		return nil
	case errors.Is(err, ErrBadCode):
		ev.Outcome, ev.Reason = audit.Failure, "bad_code"
		if errors.Is(err, ErrCodeUsed) {
			ev.Reason = "code_used"
		}
		h.Audit.Login(r.Context(), ev)
		return httpx.Unauthorized(msgBadCode)
	case errors.As(err, &locked):
		ev.Outcome, ev.Reason = audit.Blocked, "locked"
		h.Audit.Login(r.Context(), ev)
		return httpx.TooManyRequests(msgLocked, locked.RetryAfter)
	case errors.Is(err, ErrNotEnrolled):
		return httpx.Forbidden(msgNotEnrolled)
	case errors.Is(err, ErrUnknownAdmin):
		return httpx.Unauthorized(msgBadAdmin)
	default:
		h.Metrics.Login("mfa", "error")
		return httpx.Unavailable("MFA temporarily unavailable", err)
	}
}

func ping(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
