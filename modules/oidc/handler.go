package oidc

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/identity"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

// NewRoutes lists POST /auth/login/oidc/{provider}, 30/min/IP like the other consumer lanes.
func NewRoutes(s *Service, a *audit.Log, m *metrics.Metrics) []router.Route {
	return []router.Route{
		{Name: "oidc.login", Method: http.MethodPost, Path: "/auth/login/oidc/{provider}", OperationID: "login_oidc_auth_login_oidc__provider__post", Limit: "30/minute", Handler: login(s, a, m)},
	}
}

type loginRequest struct {
	IDToken string `json:"id_token"`
	Nonce   string `json:"nonce"`
}

const lane = "oidc"

// answers word the lane's outcomes.
var answers = identity.Lane{
	Name: lane, Provider: "oidc",
	IsInvalid:     func(err error) bool { return errors.Is(err, ErrInvalidToken) },
	Invalid:       "Invalid or expired ID token",
	IsUnavailable: func(err error) bool { return errors.Is(err, ErrUnavailable) },
	Unavailable:   "The identity provider is unavailable; try again later",
}

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req loginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		res, err := s.Login(r.Context(), mux.Vars(r)["provider"], req.IDToken, req.Nonce)
		if errors.Is(err, ErrUnknownProvider) {
			return httpx.NotFound("Not Found")
		}
		return answers.Answer(w, r, a, m, res, err)
	}
}
