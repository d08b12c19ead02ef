package firebase

import (
	"errors"
	"net/http"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/identity"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login/firebase (30/min/IP, per the contract).
func NewRoutes(s *Service, a *audit.Log, m *metrics.Metrics) []router.Route {
	return []router.Route{
		{Name: "firebase.login", Method: http.MethodPost, Path: "/auth/login/firebase", OperationID: "login_firebase_auth_login_firebase_post", Limit: "30/minute", Handler: login(s, a, m)},
	}
}

type loginRequest struct {
	IDToken string `json:"id_token"`
}

const lane = "firebase"

// answers word the lane's outcomes.
var answers = identity.Lane{
	Name: lane, Provider: "firebase",
	IsInvalid: func(err error) bool { return errors.Is(err, ErrInvalidToken) },
	Invalid:   "Invalid or expired Firebase ID token",
	IsUnavailable: func(err error) bool {
		var unavailable *UnavailableError
		return errors.As(err, &unavailable)
	},
	Unavailable: "Firebase authentication is unavailable; try again later",
}

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req loginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		res, err := s.Login(r.Context(), req.IDToken)
		return answers.Answer(w, r, a, m, res, err)
	}
}
