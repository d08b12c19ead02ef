package guest

import (
	"errors"
	"net/http"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/identity"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login/guest. The limit is a default: ratelimit.routes.guest.login
// overrides it per deployment.
func NewRoutes(s *Service, a *audit.Log, m *metrics.Metrics) []router.Route {
	return []router.Route{
		{Name: "guest.login", Method: http.MethodPost, Path: "/auth/login/guest", OperationID: "login_guest_auth_login_guest_post", Limit: "30/minute", Handler: login(s, a, m)},
	}
}

// loginRequest is validated against the fragment's GuestLoginRequest before it gets here.
type loginRequest struct {
	Code string `json:"code"`
	Gate string `json:"gate"`
}

// answers word the outcomes as every identity lane does: audited, counted, 200 / 401 / 503.
var answers = identity.Lane{
	Name: "guest", Provider: "guest",
	IsInvalid:     func(err error) bool { return errors.Is(err, ErrUsedUp) },
	Invalid:       "Wristband used up",
	IsUnavailable: func(error) bool { return false }, // no provider to reach: only the stores' 503
}

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req loginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		res, err := s.Login(r.Context(), req.Code, req.Gate)
		return answers.Answer(w, r, a, m, res, err)
	}
}
