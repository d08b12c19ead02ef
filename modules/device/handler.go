package device

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/schema"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// NewRoutes lists the device routes with the contract's per-IP limits: 60/min for the two
// MAC-based routes (caps MAC enumeration), 30/min for token issuance.
func NewRoutes(s *Service, g *auth.Guards, a *audit.Log, m *metrics.Metrics) []router.Route {
	h := handlers{s: s, a: a, m: m}
	return []router.Route{
		{Name: "device.login", Method: http.MethodPost, Path: "/auth/login/device", OperationID: "login_device_auth_login_device_post", Limit: "60/minute", Handler: h.login},
		{Name: "device.auth", Method: http.MethodPost, Path: "/devices/auth", OperationID: "authenticate_device_devices_auth_post", Limit: "60/minute", Handler: h.auth},
		{
			Name: "device.token", Method: http.MethodPost, Path: "/devices/{device_id}/token",
			OperationID: "issue_device_token_endpoint_devices__device_id__token_post", Limit: "30/minute",
			Guards:  []httpx.Guard{g.Bearer(auth.RoleAdmin, auth.RoleOperator)},
			Handler: h.token,
		},
	}
}

type handlers struct {
	s *Service
	a *audit.Log
	m *metrics.Metrics
}

type deviceAuthRequest struct {
	DevMAC  string `json:"dev_mac"`
	EventID int64  `json:"event_id"`
}

// msgNotRecognised is the one answer to every device that may not log in: unknown MAC,
// malformed MAC (a 401, not a 422, so probing the parser tells nothing either), archived
// device, device without operator.
const msgNotRecognised = "Device authentication failed"

func (h handlers) login(w http.ResponseWriter, r *http.Request) error {
	var req deviceAuthRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	tok, err := h.s.Login(r.Context(), req.DevMAC, req.EventID)
	ev := audit.Event{Name: "login", Lane: "device", Target: macTarget(req.DevMAC), EventID: &req.EventID}
	switch {
	case err == nil:
		ev.Outcome, ev.Actor = audit.Success, "device:"+strconv.FormatInt(tok.DeviceID, 10)
		h.a.Login(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, tokenBody(tok))
		return nil
	case errors.Is(err, ErrNotRecognised):
		ev.Outcome, ev.Reason = audit.Failure, "device_not_recognised"
		h.a.Login(r.Context(), ev)
		return httpx.Unauthorized(msgNotRecognised)
	default:
		h.m.Login("device", "error")
		return httpx.Unavailable("Device login temporarily unavailable", err)
	}
}

func (h handlers) auth(w http.ResponseWriter, r *http.Request) error {
	var req deviceAuthRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	d, err := h.s.Find(r.Context(), req.DevMAC, req.EventID)
	ev := audit.Event{Name: "device.auth", Lane: "device", Target: macTarget(req.DevMAC), EventID: &req.EventID}
	switch {
	case err == nil:
		ev.Outcome, ev.Actor = audit.Success, "device:"+strconv.FormatInt(d.ID, 10)
		h.a.Record(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, map[string]any{
			"id":          d.ID,
			"event_id":    d.EventID,
			"mac":         d.MAC,
			"name":        d.Name,
			"operator_id": d.OperatorID,
			"archived":    d.Archived,
			"created_at":  d.CreatedAt,
		})
		return nil
	case errors.Is(err, ErrNotRecognised):
		ev.Outcome, ev.Reason = audit.Failure, "device_not_recognised"
		h.a.Record(r.Context(), ev)
		return httpx.Unauthorized(msgNotRecognised)
	default:
		return httpx.Unavailable("Device authentication temporarily unavailable", err)
	}
}

type deviceTokenRequest struct {
	OperatorID int64 `json:"operator_id"`
}

func (h handlers) token(w http.ResponseWriter, r *http.Request) error {
	deviceID, err := pathID(r, "device_id")
	if err != nil {
		return err
	}
	var req deviceTokenRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	caller := auth.Claims(r.Context())
	tok, err := h.s.IssueFor(r.Context(), caller, deviceID, req.OperatorID)
	ev := audit.Event{Name: "device.token_issued", Lane: "device", Actor: caller.Role + ":" + caller.Subject, Target: "device:" + strconv.FormatInt(deviceID, 10)}
	switch {
	case err == nil:
		ev.Outcome, ev.EventID = audit.Success, &tok.EventID
		h.a.Record(r.Context(), ev)
		httpx.WriteJSON(w, http.StatusOK, tokenBody(tok))
		return nil
	case errors.Is(err, ErrDeviceNotFound):
		return httpx.NotFound("Device not found")
	case errors.Is(err, ErrForbidden):
		ev.Outcome, ev.Reason = audit.Blocked, "event_not_accessible"
		h.a.Record(r.Context(), ev)
		return httpx.Forbidden("Not allowed to manage devices of this event")
	case errors.Is(err, ErrArchived):
		return httpx.NotFound("Device is archived")
	case errors.Is(err, ErrNotOperator):
		return httpx.NotFound("Operator " + strconv.FormatInt(req.OperatorID, 10) + " is not an operator of this device's event")
	default:
		return httpx.Unavailable("Token issuance temporarily unavailable", err)
	}
}

// tokenBody is the contract's map-of-strings answer carrying an offline token (NOTES.md).
func tokenBody(t Token) map[string]string {
	return map[string]string{
		"offline_token": t.Token,
		"expires_at":    t.ExpiresAt.Format(time.RFC3339),
		"event_id":      strconv.FormatInt(t.EventID, 10),
		"device_id":     strconv.FormatInt(t.DeviceID, 10),
	}
}

// macTarget names the device in audit events by its normalised MAC (not a secret); input
// that is no MAC is not echoed into the log.
func macTarget(mac string) string {
	if norm, ok := store.NormalizeMAC(mac); ok {
		return "mac:" + norm
	}
	return "mac:malformed"
}

// pathID reads an integer path parameter the router already checked against the contract,
// with the validator's own leniency (" 7 ", "7.0", "1_0"), so the two never disagree.
func pathID(r *http.Request, name string) (int64, error) {
	raw := mux.Vars(r)[name]
	id, ok := schema.ParseInt(raw)
	if !ok {
		return 0, httpx.Invalid([]any{"path", name}, "Input should be a valid integer, unable to parse string as an integer", "int_parsing", raw)
	}
	return id, nil
}
