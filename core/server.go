package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

const startTimeout = 15 * time.Second

// Handler is the whole HTTP surface: middleware around the router.
type Handler struct {
	http.Handler
	Routes []*router.Compiled
}

type handlerParams struct {
	fx.In
	Routes   []router.Route `group:"routes"`
	Cfg      config.Core
	V        *viper.Viper
	Doc      *openapi.Document
	Limiters Limiters
	Log      *zap.Logger
	Access   AccessLogger
	Metrics  *metrics.Metrics
	Audit    *audit.Log
}

func newHandler(p handlerParams) (*Handler, error) {
	mux, compiled, err := router.Build(p.Routes, router.Options{
		Doc:           p.Doc,
		Limiter:       p.Limiters.Exact,
		Batched:       p.Limiters.Batched,
		BatchedRoutes: set(p.Cfg.RateLimit.BatchedRoutes),
		Override:      func(name string) string { return p.V.GetString("ratelimit.routes." + name) },
		Log:           p.Log.Named("http"),
		OnLimited: func(r *http.Request, route string) {
			p.Metrics.RateLimited.WithLabelValues(route).Inc()
			p.Audit.Record(r.Context(), audit.Event{Name: "rate_limit.blocked", Outcome: audit.Blocked, Target: route})
		},
	})
	if err != nil {
		return nil, err
	}
	for _, c := range compiled {
		p.Metrics.Route(c.Name, c.Method, c.Rule != nil)
	}
	proxies, err := ratelimit.NewTrustedProxies(p.Cfg.RateLimit.TrustedProxies)
	if err != nil {
		return nil, err
	}
	h := httpx.Chain(mux,
		// First, so that a panic's log line carries the request id.
		httpx.RequestIDs(),
		httpx.Recover(p.Log.Named("http")),
		httpx.ClientIPs(proxies.ClientIP),
		httpx.AccessLog(p.Access.Logger, func(route, method string, status int, d time.Duration) {
			p.Metrics.Requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
			p.Metrics.Latency.WithLabelValues(route, method).Observe(d.Seconds())
		}),
		httpx.LimitBody(p.Cfg.Server.MaxBodyBytes),
	)
	return &Handler{Handler: h, Routes: compiled}, nil
}

// Readiness is false while starting and while draining, so the readiness probe takes a
// replica out of the load balancer before it stops accepting connections.
type Readiness struct{ atomic.Bool }

func newReadiness() *Readiness { return &Readiness{} }

// Server is the HTTP listener's lifecycle.
type Server struct {
	srv   *http.Server
	addr  atomic.Value // string, set once listening
	ready *Readiness
	h     *Handler
}

// ServeHTTP lets tests drive the handler without a socket.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// Addr is the bound address (useful with server.addr ":0").
func (s *Server) Addr() string {
	a, _ := s.addr.Load().(string)
	return a
}

// Ready reports whether the server accepts traffic; false while starting and draining.
func (s *Server) Ready() bool { return s.ready.Load() }

// Handler returns the routed handler.
func (s *Server) Handler() *Handler { return s.h }

func newServer(lc fx.Lifecycle, sd fx.Shutdowner, cfg config.Core, h *Handler, ready *Readiness, log *zap.Logger) *Server {
	s := &Server{h: h, ready: ready, srv: &http.Server{
		Addr:              cfg.Server.Addr,
		Handler:           h,
		ReadTimeout:       cfg.Server.ReadTimeout,
		ReadHeaderTimeout: cfg.Server.ReadTimeout,
		WriteTimeout:      cfg.Server.WriteTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		ErrorLog:          zap.NewStdLog(log.Named("http.server")),
	}}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ln, err := net.Listen("tcp", cfg.Server.Addr)
			if err != nil {
				return fmt.Errorf("core: listen on %s: %w", cfg.Server.Addr, err)
			}
			s.addr.Store(ln.Addr().String())
			go func() {
				if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", zap.Error(err))
					_ = sd.Shutdown(fx.ExitCode(1))
				}
			}()
			s.ready.Store(true)
			log.Info("listening", zap.String("addr", ln.Addr().String()), zap.Int("routes", len(h.Routes)))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			// Readiness first, so the load balancer stops sending before we stop accepting.
			s.ready.Store(false)
			if d := cfg.Server.DrainDelay; d > 0 {
				log.Info("not ready; serving on while load balancers notice", zap.Duration("drain_delay", d))
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.Server.ShutdownTimeout)
			defer cancel()
			log.Info("draining in-flight requests", zap.Duration("timeout", cfg.Server.ShutdownTimeout))
			return s.srv.Shutdown(ctx)
		},
	})
	return s
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
