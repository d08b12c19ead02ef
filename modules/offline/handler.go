package offline

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/schema"
)

// NewRoutes lists POST /tokens/offline (30/min/IP, per the contract).
func NewRoutes(s *Service, g *auth.Guards, a *audit.Log) []router.Route {
	return []router.Route{
		{
			Name: "offline.issue", Method: http.MethodPost, Path: "/tokens/offline",
			OperationID: "issue_offline_token_tokens_offline_post", Limit: "30/minute",
			Guards:  []httpx.Guard{g.Bearer(auth.RoleAdmin, auth.RoleOperator, auth.RoleNetworkManager)},
			Handler: issue(s, a),
		},
	}
}

type offlineRequest struct {
	EventID  int64   `json:"event_id"`
	DeviceID *string `json:"device_id"`
}

// offlineResponse is the contract's OfflineTokenResponse plus device_id (a string, as in the
// request) when the token is bound to a device.
type offlineResponse struct {
	OfflineToken string `json:"offline_token"`
	ExpiresAt    string `json:"expires_at"`
	EventID      int64  `json:"event_id"`
	DeviceID     string `json:"device_id,omitempty"`
}

func issue(s *Service, a *audit.Log) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req offlineRequest
		if err := httpx.Bind(r, &req); err != nil {
			return err
		}
		var deviceID *int64
		if req.DeviceID != nil {
			id, err := parseID([]any{"body", "device_id"}, *req.DeviceID)
			if err != nil {
				return err
			}
			deviceID = &id
		}
		caller := auth.Claims(r.Context())
		res, err := s.Issue(r.Context(), caller, req.EventID, deviceID)
		ev := audit.Event{Name: "offline_token.issued", Lane: "offline", Actor: caller.Role + ":" + caller.Subject, EventID: &req.EventID}
		if deviceID != nil {
			ev.Target = "device:" + strconv.FormatInt(*deviceID, 10)
		}
		switch {
		case err == nil:
			ev.Outcome = audit.Success
			a.Record(r.Context(), ev)
			out := offlineResponse{OfflineToken: res.Token, ExpiresAt: res.ExpiresAt.Format(time.RFC3339), EventID: res.EventID}
			if res.DeviceID != nil {
				out.DeviceID = strconv.FormatInt(*res.DeviceID, 10)
			}
			httpx.WriteJSON(w, http.StatusOK, out)
			return nil
		case errors.Is(err, ErrForbidden):
			ev.Outcome, ev.Reason = audit.Blocked, "event_not_accessible"
			a.Record(r.Context(), ev)
			return httpx.Forbidden("Not allowed to issue tokens for this event")
		case errors.Is(err, ErrEventNotFound):
			return httpx.NotFound("Event not found")
		case errors.Is(err, ErrDeviceNotFound):
			return httpx.NotFound("Device not found for this event")
		default:
			return httpx.Unavailable("Token issuance temporarily unavailable", err)
		}
	}
}

// parseID reads an integer id sent as a string (the contract types device_id as a string),
// accepting what pydantic accepts for an int (" 7 ", "7.0", "1_0"). Anything else is a 422
// worded as pydantic words it, located at loc.
func parseID(loc []any, raw string) (int64, error) {
	if id, ok := schema.ParseInt(raw); ok {
		return id, nil
	}
	if s := strings.TrimLeft(strings.TrimSpace(raw), "+-"); s != "" && strings.Trim(s, "0123456789") == "" {
		return 0, httpx.Invalid(loc, "Unable to parse input string as an integer, exceeded maximum size", "int_parsing_size", raw)
	}
	return 0, httpx.Invalid(loc, "Input should be a valid integer, unable to parse string as an integer", "int_parsing", raw)
}
