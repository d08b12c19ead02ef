package system

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Params are the system routes' dependencies.
type Params struct {
	fx.In
	Doc     *openapi.Document
	DB      *store.DB
	State   state.Store
	Ready   *core.Readiness
	Metrics *metrics.Metrics
	Tokens  *tokens.Service
}

// NewRoutes lists the probes, the documents and the keys.
func NewRoutes(p Params) []router.Route {
	routes := []router.Route{
		{Name: "system.health", Method: http.MethodGet, Path: "/health", OperationID: "health_health_get", Limit: router.NoLimit, Handler: health},
		{Name: "system.ready", Method: http.MethodGet, Path: "/ready", Undocumented: true, Limit: router.NoLimit, Handler: ready(p)},
		{Name: "system.metrics", Method: http.MethodGet, Path: "/metrics", Undocumented: true, Limit: router.NoLimit, Handler: scrape(p.Metrics)},
		{Name: "system.jwks", Method: http.MethodGet, Path: "/.well-known/jwks.json", Undocumented: true, Limit: "600/minute", Handler: jwks(p.Tokens)},
		{Name: "system.openapi", Method: http.MethodGet, Path: "/openapi.json", Undocumented: true, Limit: "60/minute", Handler: document(p.Doc)},
	}
	return append(routes, discoveryRoute(p.Tokens)...)
}

// health is liveness only: it must not fail because a dependency is slow, or Kubernetes would
// restart healthy pods during a database blip.
func health(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// ready checks the dependencies a request needs, for the readiness probe.
func ready(p Params) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !p.Ready.Load() {
			return httpx.Unavailable("Not ready", nil)
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := p.DB.Ping(ctx); err != nil {
			return httpx.Unavailable("Database unavailable", err)
		}
		if err := p.State.Ping(ctx); err != nil {
			return httpx.Unavailable("State store unavailable", err)
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}
}

func document(doc *openapi.Document) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc.JSON)
		return nil
	}
}

// scrape serves Prometheus metrics. Kubernetes network policy, not this service, decides who
// may reach it.
func scrape(m *metrics.Metrics) httpx.HandlerFunc {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

// jwks publishes the public keys so services can verify tokens locally; caches may keep it a
// few minutes, which is why a new key is published before it signs (docs/operations.md).
func jwks(t *tokens.Service) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(t.JWKS())
		return nil
	}
}
