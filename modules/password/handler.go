package password

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login (10/min/IP, per the contract).
func NewRoutes(s *Service, a *audit.Log, m *metrics.Metrics) []router.Route {
	return []router.Route{
		{Name: "password.login", Method: http.MethodPost, Path: "/auth/login", OperationID: "login_auth_login_post", Limit: "10/minute", Handler: login(s, a, m)},
	}
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	EventID  *int64 `json:"event_id"`
	Role     string `json:"role"`
}

const msgBadCredentials = "Incorrect email or password"

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req := loginRequest{Role: "admin"}
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		pair, userID, err := s.Login(r.Context(), req.Email, req.Password, req.Role, req.EventID)
		ev := audit.Event{Name: "login", Lane: "password", Target: req.Role}
		var locked *LockedError
		switch {
		case err == nil:
			ev.Outcome, ev.Actor = audit.Success, req.Role+":"+strconv.FormatInt(userID, 10)
			a.Login(r.Context(), ev)
			httpx.WriteJSON(w, http.StatusOK, pair)
			return nil
		case errors.Is(err, ErrBadCredentials):
			ev.Outcome, ev.Reason = audit.Failure, "bad_credentials"
			if errors.Is(err, ErrEventRefused) {
				// The client sees a bad password; the audit says why, for whoever operates it.
				ev.Reason, ev.EventID = "event_not_allowed", req.EventID
			}
			a.Login(r.Context(), ev)
			return httpx.Unauthorized(msgBadCredentials)
		case errors.As(err, &locked):
			ev.Outcome, ev.Reason = audit.Blocked, "account_locked"
			a.Login(r.Context(), ev)
			return httpx.TooManyRequests("Too many failed login attempts; try again later", locked.RetryAfter)
		default:
			m.Login("password", "error")
			return httpx.Unavailable("Login temporarily unavailable", err)
		}
	}
}
