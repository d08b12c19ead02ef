package operatortoken

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /devices/operator-token (30/min/IP, as token issuance elsewhere).
func NewRoutes(s *Service, a *audit.Log, m *metrics.Metrics) []router.Route {
	return []router.Route{
		{
			Name: "operator_token.login", Method: http.MethodPost, Path: "/devices/operator-token",
			OperationID: "issue_operator_session_token_devices_operator_token_post", Limit: "30/minute",
			Handler: login(s, a, m),
		},
	}
}

type operatorLoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	DevType  string `json:"dev_type"`
	DevMAC   string `json:"dev_mac"`
}

// operatorLoginResponse is the contract's OperatorLoginResponse: a Session with JSON names.
type operatorLoginResponse struct {
	UserID  int64  `json:"user_id"`
	EventID *int64 `json:"event_id"`
	Email   string `json:"email"`
	Token   string `json:"token"`
	Mode    int    `json:"mode"`
	DevType string `json:"dev_type"`
}

const msgBadCredentials = "Incorrect email or password, or device type not allowed for this operator"

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req operatorLoginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		sess, err := s.Login(r.Context(), req.Email, req.Password, req.DevType, req.DevMAC)
		ev := audit.Event{Name: "login", Lane: "operator_token", Target: req.DevType}
		var locked *LockedError
		switch {
		case err == nil:
			ev.Outcome, ev.Actor, ev.EventID = audit.Success, "operator:"+strconv.FormatInt(sess.UserID, 10), sess.EventID
			a.Login(r.Context(), ev)
			httpx.WriteJSON(w, http.StatusOK, operatorLoginResponse(sess))
			return nil
		case errors.Is(err, ErrBadCredentials):
			ev.Outcome, ev.Reason = audit.Failure, "bad_credentials"
			a.Login(r.Context(), ev)
			return httpx.Unauthorized(msgBadCredentials)
		case errors.As(err, &locked):
			ev.Outcome, ev.Reason = audit.Blocked, "account_locked"
			a.Login(r.Context(), ev)
			return httpx.TooManyRequests("Too many failed login attempts; try again later", locked.RetryAfter)
		default:
			m.Login("operator_token", "error")
			return httpx.Unavailable("Login temporarily unavailable", err)
		}
	}
}
