package apikeys

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Params are the routes' dependencies.
type Params struct {
	fx.In
	Service *Service
	Guards  *auth.Guards
	Audit   *audit.Log
}

type handlers struct{ Params }

// NewRoutes lists create (10/min/IP) and revoke (30/min/IP), both for admins only.
func NewRoutes(p Params) []router.Route {
	h := handlers{p}
	admin := []httpx.Guard{p.Guards.Bearer(auth.RoleAdmin)}
	return []router.Route{
		{Name: "api_keys.create", Method: http.MethodPost, Path: "/tokens/api-key", OperationID: "create_api_key_endpoint_tokens_api_key_post", Limit: "10/minute", Guards: admin, Handler: h.create},
		{Name: "api_keys.revoke", Method: http.MethodDelete, Path: "/tokens/api-key/{key_id}", OperationID: "revoke_api_key_endpoint_tokens_api_key__key_id__delete", Limit: "30/minute", Guards: admin, Handler: h.revoke},
	}
}

type createRequest struct {
	EventID int64    `json:"event_id"`
	Name    string   `json:"name"`
	Scopes  []string `json:"scopes"`
}

// createResponse is the contract's APIKeyResponse plus the id that revocation needs (NOTES.md).
type createResponse struct {
	ID        int64     `json:"id"`
	APIKey    string    `json:"api_key"`
	Name      string    `json:"name"`
	EventID   int64     `json:"event_id"`
	CreatedAt time.Time `json:"created_at"`
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := httpx.Bind(r, &req); err != nil {
		return err
	}
	actor := "admin:" + auth.Claims(r.Context()).Subject
	c, err := h.Service.Create(r.Context(), req.EventID, req.Name, req.Scopes)
	if errors.Is(err, ErrUnknownEvent) {
		return httpx.NotFound("Event not found")
	}
	if err != nil {
		return httpx.Unavailable("Database unavailable", err)
	}
	h.Audit.Record(r.Context(), audit.Event{Name: "api_key.created", Lane: "api_keys", Outcome: audit.Success, Actor: actor, Target: "api_key:" + strconv.FormatInt(c.Client.ID, 10), EventID: &c.Client.EventID})
	httpx.WriteJSON(w, http.StatusOK, createResponse{ID: c.Client.ID, APIKey: c.Key, Name: c.Client.Name, EventID: c.Client.EventID, CreatedAt: c.Client.CreatedAt.UTC()})
	return nil
}

func (h handlers) revoke(w http.ResponseWriter, r *http.Request) error {
	// The router has already checked that key_id is an integer (422 otherwise).
	id, err := strconv.ParseInt(mux.Vars(r)["key_id"], 10, 64)
	if err != nil {
		return httpx.NotFound("API key not found")
	}
	revoked, err := h.Service.Revoke(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return httpx.NotFound("API key not found")
	}
	if err != nil {
		return httpx.Unavailable("Database unavailable", err)
	}
	if revoked {
		h.Audit.Record(r.Context(), audit.Event{Name: "api_key.revoked", Lane: "api_keys", Outcome: audit.Success, Actor: "admin:" + auth.Claims(r.Context()).Subject, Target: "api_key:" + strconv.FormatInt(id, 10)})
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"message": "API key revoked"})
	return nil
}
