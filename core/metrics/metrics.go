// Package metrics holds the service's Prometheus collectors, registered on a registry of its
// own (so tests and several apps in one process do not collide) and served at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"
)

// LoginOutcomes are the outcome label values of cashless_auth_logins_total: audit's Success,
// Failure and Blocked, and "error" for an attempt a dependency failure ended.
var LoginOutcomes = []string{"success", "failure", "blocked", "error"}

// ServerErrorStatuses are the 5xx statuses the service answers itself (a panic or an
// unexpected error, a dependency outage), pre-initialised on every route.
var ServerErrorStatuses = []string{"500", "503"}

// LatencyBuckets are the upper bounds of cashless_auth_http_request_duration_seconds. An SLO
// threshold must be one of them (the alerts count the requests under it from a bucket):
// 0.01 is the /tokens/verify SLO of docs/operations.md.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Metrics are the collectors modules and the core update.
type Metrics struct {
	Registry     *prometheus.Registry
	Requests     *prometheus.CounterVec   // route, method, status
	Latency      *prometheus.HistogramVec // route, method
	Logins       *prometheus.CounterVec   // lane, outcome
	RateLimited  *prometheus.CounterVec   // route
	TokensIssued *prometheus.CounterVec   // type
	DepErrors    *prometheus.CounterVec   // dependency
	Lockouts     *prometheus.CounterVec   // lane
	// RefreshReuses counts refresh tokens presented again after their rotation (outside
	// jwt.refresh_reuse_grace), each of which revoked its session: theft, or a broken client.
	RefreshReuses prometheus.Counter
}

// New registers the collectors, plus Go runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashless_auth_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cashless_auth_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: LatencyBuckets,
		}, []string{"route", "method"}),
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashless_auth_logins_total", Help: "Login attempts by lane and outcome.",
		}, []string{"lane", "outcome"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashless_auth_rate_limited_total", Help: "Requests refused by a rate limit, by route.",
		}, []string{"route"}),
		TokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashless_auth_tokens_issued_total", Help: "Tokens issued by type.",
		}, []string{"type"}),
		DepErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashless_auth_dependency_errors_total", Help: "Failed calls to dependencies (database, redis, sms, mail, firebase).",
		}, []string{"dependency"}),
		Lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cashless_auth_lockouts_total", Help: "Account locks started after repeated failed passwords, by the lane of the failure that started them.",
		}, []string{"lane"}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.Logins, m.RateLimited, m.TokensIssued, m.DepErrors, m.Lockouts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Without labels it is exported at 0 from the first scrape, so increase() sees the first one.
	m.RefreshReuses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cashless_auth_refresh_reuse_total", Help: "Refresh tokens presented again after their rotation; each revoked its session.",
	})
	reg.MustRegister(m.RefreshReuses)
	return m
}

// RefreshReuse counts one refresh-token reuse detection.
func (m *Metrics) RefreshReuse() {
	if m != nil {
		m.RefreshReuses.Inc()
	}
}

// optional takes the Metrics where the graph has them: a module's options are also run in graphs
// of their own (to read its OpenAPI fragment, by the CLI), which have none.
type optional struct {
	fx.In
	M *Metrics `optional:"true"`
}

// LoginLane declares that a module counts logins under lane, so that its
// cashless_auth_logins_total series exist at 0 for every outcome from the first scrape (an
// alert's rate() then sees the first failure, and a dashboard shows the lane before its first
// login). A module adds it to its fx options, as it does its routes.
func LoginLane(lane string) fx.Option {
	return fx.Invoke(func(in optional) { in.M.LoginLane(lane) })
}

// LoginLane makes lane's login counts exist, at 0, for every outcome in LoginOutcomes.
func (m *Metrics) LoginLane(lane string) {
	if m != nil {
		for _, outcome := range LoginOutcomes {
			m.Logins.WithLabelValues(lane, outcome)
		}
	}
}

// Dependency declares that a module calls dep (cashless_auth_dependency_errors_total's
// dependency label), so that its error count exists at 0 from the first scrape: "no error yet"
// reads as 0, not as a missing series an alert cannot tell from a dead target.
func Dependency(dep string) fx.Option {
	return fx.Invoke(func(in optional) { in.M.Dependency(dep) })
}

// Dependency makes dep's error count exist, at 0.
func (m *Metrics) Dependency(dep string) {
	if m != nil {
		m.DepErrors.WithLabelValues(dep)
	}
}

// Route makes a route's series exist from the first scrape: its latency histogram, its
// ServerErrorStatuses counts (so a 5xx rate sees the first error) and, when it has a rate
// limit, its refusals.
func (m *Metrics) Route(name, method string, limited bool) {
	if m == nil {
		return
	}
	m.Latency.WithLabelValues(name, method)
	for _, status := range ServerErrorStatuses {
		m.Requests.WithLabelValues(name, method, status)
	}
	if limited {
		m.RateLimited.WithLabelValues(name)
	}
}

// Login counts one login attempt of lane with outcome.
func (m *Metrics) Login(lane, outcome string) {
	if m != nil {
		m.Logins.WithLabelValues(lane, outcome).Inc()
	}
}

// Issued counts one issued token of type typ.
func (m *Metrics) Issued(typ string) {
	if m != nil {
		m.TokensIssued.WithLabelValues(typ).Inc()
	}
}

// DependencyError counts one failed call to dep.
func (m *Metrics) DependencyError(dep string) {
	if m != nil {
		m.DepErrors.WithLabelValues(dep).Inc()
	}
}

// LockoutLane makes lane's lockout count exist, at 0, before its first lock.
func (m *Metrics) LockoutLane(lane string) {
	if m != nil {
		m.Lockouts.WithLabelValues(lane)
	}
}

// Lockout counts one account lock started by a failure on lane.
func (m *Metrics) Lockout(lane string) {
	if m != nil {
		m.Lockouts.WithLabelValues(lane).Inc()
	}
}

// PasswordVerifications exposes count, the password verifications run so far (argon2id or
// bcrypt, the equalising ones for unknown accounts included), as a counter.
func (m *Metrics) PasswordVerifications(count func() uint64) {
	if m != nil {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cashless_auth_password_verifications_total",
			Help: "Password hashes verified (equalising work for unknown accounts included): the CPU that logins cost.",
		}, func() float64 { return float64(count()) }))
	}
}
