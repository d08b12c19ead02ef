package firebase

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
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

func login(s *Service, a *audit.Log, m *metrics.Metrics) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req loginRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		res, err := s.Login(r.Context(), req.IDToken)
		ev := audit.Event{Name: "login", Lane: lane}
		var unavailable *UnavailableError
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
		case errors.Is(err, ErrInvalidToken):
			ev.Outcome, ev.Reason = audit.Failure, "invalid_token"
			a.Record(r.Context(), ev)
			m.Login(lane, audit.Failure)
			return httpx.Unauthorized("Invalid or expired Firebase ID token")
		case errors.As(err, &unavailable):
			m.Login(lane, "error")
			m.DependencyError("firebase")
			return httpx.Unavailable("Firebase authentication is unavailable; try again later", err)
		default:
			m.Login(lane, "error")
			return httpx.Unavailable("Firebase login temporarily unavailable", err)
		}
	}
}
