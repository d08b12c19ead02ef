package oidc

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
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

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req loginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		provider := mux.Vars(r)["provider"]
		res, err := s.Login(r.Context(), provider, req.IDToken, req.Nonce)
		ev := audit.Event{Name: "login", Lane: lane}
		switch {
		case err == nil:
			ev.Outcome, ev.Actor = audit.Success, "consumer:"+strconv.FormatInt(res.Consumer.ID, 10)
			if res.PhoneConflict {
				ev.Reason = "phone_claim_held_by_another_consumer"
			}
			a.Record(r.Context(), ev)
			m.Login(lane, audit.Success)
			httpx.WriteJSON(w, http.StatusOK, res.Pair)
			return nil
		case errors.Is(err, ErrUnknownProvider):
			return httpx.NotFound("Not Found")
		case errors.Is(err, ErrInvalidToken):
			ev.Outcome, ev.Reason = audit.Failure, "invalid_token"
			a.Record(r.Context(), ev)
			m.Login(lane, audit.Failure)
			return httpx.Unauthorized("Invalid or expired ID token")
		case errors.Is(err, ErrUnavailable):
			m.Login(lane, "error")
			m.DependencyError("oidc")
			return httpx.Unavailable("The identity provider is unavailable; try again later", err)
		default:
			m.Login(lane, "error")
			return httpx.Unavailable("Login temporarily unavailable", err)
		}
	}
}
