package session

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
)

// msgMFAStale is the answer of the core's MFA freshness guard, which ending every other
// session gives too, for admins with a second factor.
const msgMFAStale = "MFA verification required: verify a TOTP code within the freshness window"

// adminSessionRoutes are an admin's own sessions (ASVS 3.3.4): list them, end one, end all
// but the current one.
func (h handlers) adminSessionRoutes() []router.Route {
	admin := []httpx.Guard{h.Guards.Bearer(auth.RoleAdmin)}
	return []router.Route{
		{Name: "session.list", Method: http.MethodGet, Path: "/admin/sessions", OperationID: "list_sessions_admin_sessions_get", Limit: "60/minute", Guards: admin, Handler: h.listSessions},
		{Name: "session.end", Method: http.MethodDelete, Path: "/admin/sessions/{session_id}", OperationID: "end_session_admin_sessions__session_id__delete", Limit: "30/minute", Guards: admin, Handler: h.endSession},
		{Name: "session.end_others", Method: http.MethodDelete, Path: "/admin/sessions", OperationID: "end_other_sessions_admin_sessions_delete", Limit: "10/minute", Guards: admin, Handler: h.endOtherSessions},
	}
}

// sessionInfo is the fragment's SessionInfo.
type sessionInfo struct {
	SessionID       string     `json:"session_id"`
	CreatedAt       *time.Time `json:"created_at"`
	LastRefreshedAt *time.Time `json:"last_refreshed_at"`
	Lane            *string    `json:"lane"`
	IPPrefix        *string    `json:"ip_prefix"`
	UserAgent       *string    `json:"user_agent"`
	Current         bool       `json:"current"`
}

func sessionInfoOf(in sessions.Info, current string) sessionInfo {
	return sessionInfo{SessionID: in.ID, CreatedAt: timeOrNil(in.Created), LastRefreshedAt: timeOrNil(in.Refreshed),
		Lane: stringOrNil(in.Lane), IPPrefix: stringOrNil(in.Network), UserAgent: stringOrNil(in.UserAgent),
		Current: in.ID == current}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h handlers) listSessions(w http.ResponseWriter, r *http.Request) error {
	c := auth.Claims(r.Context())
	live, err := h.Sessions.List(r.Context(), c.Role, c.Subject)
	if err != nil {
		return httpx.Unavailable("Session store unavailable", err)
	}
	out := make([]sessionInfo, len(live))
	for i, in := range live {
		out[i] = sessionInfoOf(in, c.Session)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h handlers) endSession(w http.ResponseWriter, r *http.Request) error {
	c := auth.Claims(r.Context())
	// The router has checked the id against the fragment's pattern (422 otherwise).
	sid := mux.Vars(r)["session_id"]
	err := h.Sessions.End(r.Context(), c.Role, c.Subject, sid)
	if errors.Is(err, sessions.ErrNotFound) {
		// Another principal's session is answered as a missing one: ids are not probed.
		return httpx.NotFound("Session not found")
	}
	if err != nil {
		return httpx.Unavailable("Session store unavailable", err)
	}
	h.Audit.Record(r.Context(), audit.Event{Name: "session.ended", Outcome: audit.Success, Actor: c.Role + ":" + c.Subject})
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"message": "Session ended"})
	return nil
}

func (h handlers) endOtherSessions(w http.ResponseWriter, r *http.Request) error {
	c := auth.Claims(r.Context())
	if err := h.requireFreshMFA(r); err != nil {
		return err
	}
	n, err := h.Sessions.EndOthers(r.Context(), c.Role, c.Subject, c.Session)
	if err != nil {
		return httpx.Unavailable("Session store unavailable", err)
	}
	h.Audit.Record(r.Context(), audit.Event{Name: "session.ended_others", Outcome: audit.Success, Actor: c.Role + ":" + c.Subject, Target: strconv.Itoa(n)})
	httpx.WriteJSON(w, http.StatusOK, map[string]int{"ended": n})
	return nil
}

// requireFreshMFA refuses an admin who has a second factor switched on unless the token
// carries a verification within the freshness window, as the core's freshness guard does: a
// stolen password alone must not lock the owner out of every other device. Without a module
// that keeps second factors, nobody has one.
func (h handlers) requireFreshMFA(r *http.Request) error {
	c := auth.Claims(r.Context())
	if h.Factors == nil || h.Guards.MFAFresh(c) {
		return nil
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return httpx.Unauthorized("Could not validate credentials")
	}
	enabled, err := h.Factors.Enabled(r.Context(), id)
	if err != nil {
		return httpx.Unavailable("Database unavailable", err)
	}
	if enabled {
		h.Audit.Record(r.Context(), audit.Event{Name: "session.ended_others", Outcome: audit.Blocked, Actor: c.Role + ":" + c.Subject, Reason: "mfa_stale"})
		return httpx.Forbidden(msgMFAStale)
	}
	return nil
}
