package password

import (
	"errors"
	"net/http"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login (10/min/IP, per the contract).
func NewRoutes(s *Service) []router.Route {
	return []router.Route{
		{Name: "password.login", Method: http.MethodPost, Path: "/auth/login", OperationID: "login_auth_login_post", Limit: "10/minute", Handler: login(s)},
	}
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	EventID  *int64 `json:"event_id"`
	Role     string `json:"role"`
}

const msgBadCredentials = "Incorrect email or password"

func login(s *Service) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req := loginRequest{Role: "admin"}
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		pair, err := s.Login(r.Context(), req.Email, req.Password, req.Role, req.EventID)
		var locked *LockedError
		switch {
		case err == nil:
			httpx.WriteJSON(w, http.StatusOK, pair)
			return nil
		case errors.Is(err, ErrBadCredentials):
			return httpx.Unauthorized(msgBadCredentials)
		case errors.As(err, &locked):
			return httpx.TooManyRequests("Too many failed login attempts; try again later", locked.RetryAfter)
		default:
			return httpx.Unavailable("Login temporarily unavailable", err)
		}
	}
}
