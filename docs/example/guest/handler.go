package guest

import (
	"errors"
	"net/http"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login/guest. The limit is a default: ratelimit.routes.guest.login
// overrides it per deployment.
func NewRoutes(s *Service) []router.Route {
	return []router.Route{
		{Name: "guest.login", Method: http.MethodPost, Path: "/auth/login/guest", OperationID: "login_guest_auth_login_guest_post", Limit: "30/minute", Handler: login(s)},
	}
}

// loginRequest is validated against the fragment's GuestLoginRequest before it gets here.
type loginRequest struct {
	Code string `json:"code"`
	Gate string `json:"gate"`
}

func login(s *Service) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req loginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		res, err := s.Login(r.Context(), req.Code, req.Gate)
		switch {
		case err == nil:
			httpx.WriteJSON(w, http.StatusOK, res.Pair)
			return nil
		case errors.Is(err, ErrUsedUp):
			return httpx.Unauthorized("Wristband used up")
		default:
			return httpx.Unavailable("Login temporarily unavailable", err)
		}
	}
}
