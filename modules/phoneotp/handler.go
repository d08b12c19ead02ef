package phoneotp

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login/phone and /auth/login/phone/verify (30/min/IP each, per the
// contract); the per-number limits live in the service.
func NewRoutes(s *Service, a *audit.Log, m *metrics.Metrics) []router.Route {
	h := handlers{s: s, a: a, m: m}
	return []router.Route{
		{Name: "phone_otp.request", Method: http.MethodPost, Path: "/auth/login/phone", OperationID: "login_phone_auth_login_phone_post", Limit: "30/minute", Handler: h.request},
		{Name: "phone_otp.verify", Method: http.MethodPost, Path: "/auth/login/phone/verify", OperationID: "login_phone_verify_auth_login_phone_verify_post", Limit: "30/minute", Handler: h.verify},
	}
}

type handlers struct {
	s *Service
	a *audit.Log
	m *metrics.Metrics
}

type phoneRequest struct {
	Phone string `json:"phone"`
}

type verifyRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

const (
	lane       = "phone_otp"
	msgSent    = "If the number can receive SMS, a verification code has been sent"
	msgBadCode = "Invalid or expired verification code"
)

func invalidPhone(raw string) error {
	return httpx.Invalid([]any{"body", "phone"}, "Value error, invalid phone number", "value_error", raw)
}

func (h handlers) request(w http.ResponseWriter, r *http.Request) error {
	var req phoneRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	phone, err := h.s.Request(r.Context(), req.Phone)
	ev := audit.Event{Name: "otp.sent", Lane: lane, Target: MaskPhone(phone)}
	var limited *LimitedError
	var sendErr *SendError
	switch {
	case err == nil:
		ev.Outcome = audit.Success
		h.a.Record(r.Context(), ev)
		// The same answer whoever owns the number, and never the code.
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"message": msgSent})
		return nil
	case errors.Is(err, ErrInvalidPhone):
		return invalidPhone(req.Phone)
	case errors.As(err, &limited):
		ev.Outcome, ev.Reason = audit.Blocked, limited.Reason
		h.a.Record(r.Context(), ev)
		return httpx.TooManyRequests(limitMessage(limited), limited.RetryAfter)
	case errors.As(err, &sendErr):
		ev.Outcome, ev.Reason = audit.Failure, "sms_failed"
		h.a.Record(r.Context(), ev)
		h.m.DependencyError("sms")
		return httpx.Unavailable("Could not send the verification code; try again later", err)
	default:
		return httpx.Unavailable("Phone login temporarily unavailable", err)
	}
}

func (h handlers) verify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	pair, c, err := h.s.Verify(r.Context(), req.Phone, req.Code)
	ev := audit.Event{Name: "login", Lane: lane}
	var limited *LimitedError
	switch {
	case err == nil:
		ev.Outcome, ev.Actor = audit.Success, "consumer:"+strconv.FormatInt(c.ID, 10)
		h.a.Record(r.Context(), ev)
		h.m.Login(lane, audit.Success)
		httpx.WriteJSON(w, http.StatusOK, pair)
		return nil
	case errors.Is(err, ErrInvalidPhone):
		return invalidPhone(req.Phone)
	case errors.Is(err, ErrBadCode):
		ev.Outcome, ev.Reason = audit.Failure, "bad_code"
		if errors.Is(err, ErrCodeUsed) {
			ev.Reason = "code_used"
		}
		h.a.Record(r.Context(), ev)
		h.m.Login(lane, audit.Failure)
		return httpx.Unauthorized(msgBadCode)
	case errors.As(err, &limited):
		ev.Outcome, ev.Reason = audit.Blocked, limited.Reason
		h.a.Record(r.Context(), ev)
		h.m.Login(lane, audit.Blocked)
		return httpx.TooManyRequests(limitMessage(limited), limited.RetryAfter)
	default:
		h.m.Login(lane, "error")
		return httpx.Unavailable("Phone login temporarily unavailable", err)
	}
}

func limitMessage(l *LimitedError) string {
	if l.Reason == "send_limit" {
		return "Too many verification codes requested for this number; try again later"
	}
	return "Too many failed verification attempts for this number; try again later"
}
