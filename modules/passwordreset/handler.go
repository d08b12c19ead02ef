package passwordreset

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// Params are the routes' dependencies.
type Params struct {
	fx.In
	Service *Service
	Audit   *audit.Log
}

type handlers struct{ Params }

// NewRoutes lists email-send and confirm. The contract gives confirm 30/min/IP and states no
// per-IP limit for email-send; 10/min/IP bounds mail bombing beside the per-address quota.
// The access log records the route template, never the token in the path.
func NewRoutes(p Params) []router.Route {
	h := handlers{p}
	return []router.Route{
		{Name: "password_reset.email_send", Method: http.MethodPost, Path: "/admin/password-reset/email-send", OperationID: "email_send_admin_password_reset_email_send_post", Limit: "10/minute", Handler: h.emailSend},
		{Name: "password_reset.confirm", Method: http.MethodPost, Path: "/admin/password-reset/{token}", OperationID: "confirm_admin_password_reset__token__post", Limit: "30/minute", Handler: h.confirm},
	}
}

const (
	msgSent  = "If the address belongs to an admin account, a password reset link has been sent"
	msgReset = "Password has been reset"
	msgGone  = "This password reset link is invalid or has expired; request a new one"
	msgQuota = "Too many password reset requests for this address; try again later"
)

type emailSendRequest struct {
	Email string `json:"email"`
}

func (h handlers) emailSend(w http.ResponseWriter, r *http.Request) error {
	var req emailSendRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	id, err := h.Service.Request(r.Context(), req.Email)
	ev := audit.Event{Name: "password_reset.requested", Lane: "password_reset"}
	if id != 0 {
		ev.Actor = "admin:" + strconv.FormatInt(id, 10)
	}
	var quota *QuotaError
	switch {
	case err == nil:
		ev.Outcome = audit.Success
		if id == 0 {
			ev.Outcome, ev.Reason = audit.Failure, "unknown_account"
		}
		h.Audit.Record(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"message": msgSent})
		return nil
	case errors.As(err, &quota):
		ev.Outcome, ev.Reason = audit.Blocked, "quota"
		if quota.Capacity {
			ev.Reason = "quota_capacity"
		}
		h.Audit.Record(r.Context(), ev)
		return httpx.TooManyRequests(msgQuota, quota.RetryAfter)
	default:
		return httpx.Unavailable("Password reset temporarily unavailable", err)
	}
}

type confirmRequest struct {
	NewPassword string `json:"new_password"`
}

func (h handlers) confirm(w http.ResponseWriter, r *http.Request) error {
	// The body is checked first, so a malformed request does not spend the token.
	var req confirmRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	id, err := h.Service.Confirm(r.Context(), mux.Vars(r)["token"], req.NewPassword)
	ev := audit.Event{Name: "password_reset.confirmed", Lane: "password_reset"}
	switch {
	case err == nil:
		ev.Outcome, ev.Actor = audit.Success, "admin:"+strconv.FormatInt(id, 10)
		h.Audit.Record(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"message": msgReset})
		return nil
	case errors.Is(err, ErrGone):
		ev.Outcome, ev.Reason = audit.Failure, "token_unusable"
		h.Audit.Record(r.Context(), ev)
		return httpx.Gone(msgGone)
	default:
		return httpx.Unavailable("Password reset temporarily unavailable", err)
	}
}
