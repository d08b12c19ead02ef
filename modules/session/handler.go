package session

import (
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
	"github.com/cashlessmedia/cashless-auth/core/verify"
)

// Params are the session routes' dependencies.
type Params struct {
	fx.In
	Guards   *auth.Guards
	Sessions *sessions.Service
	Tokens   *tokens.Service
	Users    *store.Users
	// Checker is the verification gateway forward-auth shares.
	Checker *verify.Checker
	Audit   *audit.Log
	Metrics *metrics.Metrics
	// Factors answers mfa_enabled; absent (no module keeps second factors), it is false.
	Factors auth.SecondFactors `optional:"true"`
}

type handlers struct{ Params }

// NewRoutes lists refresh, logout, verify and /admin/me with the contract's limits, and an
// admin's own sessions.
func NewRoutes(p Params) []router.Route {
	h := handlers{p}
	return append([]router.Route{
		{Name: "session.refresh", Method: http.MethodPost, Path: "/auth/refresh", OperationID: "refresh_auth_refresh_post", Limit: "30/minute", Handler: h.refresh},
		{Name: "session.logout", Method: http.MethodPost, Path: "/auth/logout", OperationID: "logout_auth_logout_post", Limit: "30/minute", Guards: []httpx.Guard{p.Guards.Bearer()}, Handler: h.logout},
		{Name: "session.verify", Method: http.MethodPost, Path: "/tokens/verify", OperationID: "verify_token_endpoint_tokens_verify_post", Limit: "600/minute", Handler: h.verify},
		{Name: "session.me", Method: http.MethodGet, Path: "/admin/me", OperationID: "get_me_admin_me_get", Limit: "60/minute", Guards: []httpx.Guard{p.Guards.Bearer(auth.RoleAdmin)}, Handler: h.me},
	}, h.adminSessionRoutes()...)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

const msgBadRefresh = "Invalid or expired refresh token"

func (h handlers) refresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	pair, err := h.Sessions.Refresh(r.Context(), req.RefreshToken)
	switch {
	case err == nil:
		httpx.WriteJSON(w, http.StatusOK, pair)
		return nil
	case errors.Is(err, sessions.ErrReuse):
		ev := audit.Event{Name: "refresh.reuse_detected", Outcome: audit.Blocked, Reason: "session_revoked"}
		var re *sessions.ReuseError
		if errors.As(err, &re) {
			ev.Actor = re.Role + ":" + re.Subject
		}
		h.Audit.Record(r.Context(), ev)
		h.Metrics.RefreshReuse()
		return httpx.Unauthorized("Refresh token reuse detected; session revoked")
	case isTokenError(err):
		return httpx.Unauthorized(msgBadRefresh)
	default:
		return httpx.Unavailable("Session store unavailable", err)
	}
}

func (h handlers) logout(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	err := h.Sessions.Logout(r.Context(), auth.Claims(r.Context()), req.RefreshToken)
	switch {
	case err == nil:
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"message": "Logged out"})
		return nil
	case errors.Is(err, sessions.ErrForeign):
		return httpx.Forbidden("Refresh token does not belong to the caller")
	case isTokenError(err):
		return httpx.Unauthorized(msgBadRefresh)
	default:
		return httpx.Unavailable("Session store unavailable", err)
	}
}

func isTokenError(err error) bool {
	return errors.Is(err, tokens.ErrInvalid) || errors.Is(err, tokens.ErrExpired) || errors.Is(err, tokens.ErrType) || errors.Is(err, sessions.ErrRevoked)
}

type verifyRequest struct {
	Token string `json:"token"`
}

type verifyResponse struct {
	Valid  bool `json:"valid"`
	Claims any  `json:"claims"`
	// raw, when set, is the claims as already-valid JSON from the token cache, written as is
	// (kept apart from Claims: boxing it into the interface would cost an allocation).
	raw []byte
}

var invalid = verifyResponse{Valid: false, Claims: nil}

// verify answers 200 for every token, valid or not, so callers need one code path.
func (h handlers) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	res, err := h.check(r, req.Token)
	if err != nil {
		return httpx.Unavailable("Token verification unavailable", err)
	}
	if raw := res.raw; raw != nil {
		// Written as they are, instead of letting encoding/json re-validate them per answer.
		w.Header()["Content-Type"] = httpx.JSONContentType
		w.WriteHeader(http.StatusOK)
		// net/http buffers the response: three writes are one packet.
		_, _ = w.Write(validPrefix)
		_, _ = w.Write(raw)
		_, _ = w.Write(validSuffix)
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

var validPrefix, validSuffix = []byte(`{"valid":true,"claims":`), []byte("}\n")

func (h handlers) check(r *http.Request, token string) (verifyResponse, error) {
	res, err := h.Checker.Check(r.Context(), token)
	if err != nil || !res.Valid {
		return invalid, err
	}
	if res.JWT == nil {
		return verifyResponse{Valid: true, Claims: res.Claims}, nil
	}
	raw, err := res.JWT.JSON()
	if err != nil {
		return invalid, err
	}
	// Pre-encoded: a token verified on every request is encoded once, not per answer.
	return verifyResponse{Valid: true, raw: raw}, nil
}

func (h handlers) me(w http.ResponseWriter, r *http.Request) error {
	c := auth.Claims(r.Context())
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return httpx.Unauthorized("Could not validate credentials")
	}
	u, err := h.Users.ByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return httpx.Unauthorized("Could not validate credentials")
	}
	if err != nil {
		return httpx.Unavailable("Database unavailable", err)
	}
	mfa := false
	if h.Factors != nil {
		if mfa, err = h.Factors.Enabled(r.Context(), u.ID); err != nil {
			return httpx.Unavailable("Database unavailable", err)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"id":              u.ID,
		"email":           u.Email,
		"role":            u.Role,
		"event_id":        u.EventID,
		"mfa_enabled":     mfa,
		"mfa_verified_at": c.MFAVerifiedAt,
		"created_at":      u.CreatedAt,
	})
	return nil
}
