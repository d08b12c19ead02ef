package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Core is the configuration every deployment shares, whatever lanes it enables.
type Core struct {
	Server    Server    `mapstructure:"server"`
	Log       Log       `mapstructure:"log"`
	Data      Data      `mapstructure:"data"`
	Database  Database  `mapstructure:"database"`
	Redis     Redis     `mapstructure:"redis"`
	JWT       JWT       `mapstructure:"jwt"`
	Secrets   Secrets   `mapstructure:"secrets"`
	MFA       MFA       `mapstructure:"mfa"`
	RateLimit RateLimit `mapstructure:"ratelimit"`
	Password  Password  `mapstructure:"password"`
	Bootstrap Bootstrap `mapstructure:"bootstrap"`

	// Renamed are the keys set under an old name, warned about at start and by config-check.
	Renamed []Renamed `mapstructure:"-"`
}

// Server is the HTTP listener.
type Server struct {
	Addr         string `mapstructure:"addr"`           // default ":8080"
	MaxBodyBytes int64  `mapstructure:"max_body_bytes"` // bytes, default 65536; larger bodies get 413
	// MaxHeaderBytes caps the request line and headers (Go reads up to 4 KiB beyond it); larger
	// get 431 before any route runs. Go's default, 1 MiB, lets every connection hold a megabyte.
	MaxHeaderBytes  int           `mapstructure:"max_header_bytes"` // bytes, default 16384
	ReadTimeout     time.Duration `mapstructure:"read_timeout"`     // default 10s
	WriteTimeout    time.Duration `mapstructure:"write_timeout"`    // default 30s
	IdleTimeout     time.Duration `mapstructure:"idle_timeout"`     // default 120s
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"` // drain budget on SIGTERM, default 15s
	// DrainDelay keeps serving after readiness turns false on SIGTERM, so load balancers stop
	// routing here before the listener closes (clusters without a preStop sleep). Default 0.
	DrainDelay time.Duration `mapstructure:"drain_delay"`
	// GCPercent is the Go GC target (GOGC) unless the GOGC environment variable is set. The live
	// heap is small (caches of a few MB) and /tokens/verify allocates steadily, so Go's 100
	// means a collection every fraction of a second whose mark phase delays requests on a
	// small CPU share; 200 collects half as often. The price is memory under a login flood
	// (argon2 allocates 19 MiB per hash): see docs/performance.md. With a memory limit
	// (GOMEMLIMIT, set by the Helm chart from the container's limit) the GC tightens before
	// the limit. Default 200; 0 keeps Go's default.
	GCPercent int `mapstructure:"gc_percent"`
}

// Log selects zap's output.
type Log struct {
	Level  string `mapstructure:"level"`  // debug|info|warn|error, default info
	Format string `mapstructure:"format"` // json|console, default json
}

// Data is where the embedded default keeps its SQLite file and generated secrets.
type Data struct {
	Dir string `mapstructure:"dir"` // default "data"
}

// Database selects the relational store.
type Database struct {
	URL string `mapstructure:"url"` // "" = embedded SQLite under data.dir; postgres://…; sqlite://PATH
}

// Redis selects the shared state store.
type Redis struct {
	URL    string `mapstructure:"url"`    // "" = in-process state (single replica only)
	Prefix string `mapstructure:"prefix"` // key prefix, default "cashless-auth:"; one per tenant sharing a server
	// CacheTTL bounds how long a replica trusts a cached "session alive", API key or
	// not-before time without asking again. Revocations are pushed at once; this only bounds a push lost in a Redis
	// reconnect. Default 2s; 0 disables the caches.
	CacheTTL time.Duration `mapstructure:"cache_ttl"`
}

// JWT pins how tokens are signed and checked.
type JWT struct {
	Secret string `mapstructure:"secret"` // HS256 key, raw bytes, ≥32; required with PostgreSQL
	Issuer string `mapstructure:"issuer"` // default "cashless-auth"
	// AcceptedIssuers: further iss values verification accepts, so that changing jwt.issuer
	// logs nobody out; keep the old issuer here for the longest token lifetime (offline_ttl
	// or refresh_ttl, whichever is longer) after the change (docs/operations.md).
	AcceptedIssuers []string      `mapstructure:"accepted_issuers"`
	Audience        string        `mapstructure:"audience"`    // default "cashless-platform"
	AccessTTL       time.Duration `mapstructure:"access_ttl"`  // default 15m
	RefreshTTL      time.Duration `mapstructure:"refresh_ttl"` // default 168h
	OfflineTTL      time.Duration `mapstructure:"offline_ttl"` // default 72h
	Leeway          time.Duration `mapstructure:"leeway"`      // clock skew allowed on exp/iat/nbf, default 5s
	// RefreshReuseGrace: a refresh token presented again this soon after its rotation gets the
	// pair it was rotated to, again, instead of ending its session as a theft: a mobile client
	// that lost the answer to its refresh retries. Default 0s (off); at most 1m, since a thief
	// replaying within it gets the same pair (docs/operations.md).
	RefreshReuseGrace time.Duration `mapstructure:"refresh_reuse_grace"`
	// KeysDir holds asymmetric keys "<kid>.pem" (private) and "<kid>.pub.pem" (verify-only),
	// published at /.well-known/jwks.json; ActiveKID names the signing key. Empty: HS256 only.
	KeysDir   string `mapstructure:"keys_dir"`
	ActiveKID string `mapstructure:"active_kid"`
	// OfflineSigning: "asymmetric" (default) signs offline and device tokens with the active
	// keyring key or, without one, an Ed25519 key derived from jwt.secret, so a POS verifies
	// them with a public key; "hs256" keeps the secret for a fleet whose POS software still
	// verifies with it (docs/upgrading.md).
	OfflineSigning string `mapstructure:"offline_signing"`
	// HS256Until (RFC 3339): with jwt.active_kid set, HS256 tokens are accepted until then,
	// during the switch from jwt.secret to the keyring; unset: not at all.
	HS256Until string `mapstructure:"hs256_until"`
}

// HS256UntilTime is jwt.hs256_until parsed (zero when unset or invalid; LoadCore reports it).
func (j JWT) HS256UntilTime() time.Time {
	t, _ := time.Parse(time.RFC3339, j.HS256Until)
	return t
}

// Secrets holds keys for data sealed at rest.
type Secrets struct {
	EncryptionKey string `mapstructure:"encryption_key"` // base64 of 32 bytes; required with PostgreSQL
}

// MFA is read by the core's freshness guard, which any module may put on a route. Until the
// next major version the section may also hold mfa.issuer, the mfa module's old key: Decode
// leaves it to the rename.
type MFA struct {
	Freshness time.Duration `mapstructure:"freshness"` // default 8h
}

// RateLimit configures per-route limits and how the client IP is found.
type RateLimit struct {
	TrustedProxies []string `mapstructure:"trusted_proxies"` // CIDRs whose X-Forwarded-For is believed
	// Routes overrides a route's limit by route name, e.g. ratelimit.routes.password.login: "20/minute".
	Routes map[string]any `mapstructure:"routes"`
	// BatchedRoutes decide locally and merge into Redis every BatchInterval instead of a round
	// trip per request (hot, generous limits only). Default: session.verify, forward_auth.check.
	BatchedRoutes []string      `mapstructure:"batched_routes"`
	BatchInterval time.Duration `mapstructure:"batch_interval"` // default 100ms
}

// Password tunes hashing and the per-account lock.
type Password struct {
	Argon2Memory  uint32 `mapstructure:"argon2_memory"`  // KiB, default 19456 (OWASP minimum)
	Argon2Time    uint32 `mapstructure:"argon2_time"`    // passes, default 2
	Argon2Threads uint8  `mapstructure:"argon2_threads"` // default 1
	Workers       int    `mapstructure:"workers"`        // concurrent hashes, default 0 = GOMAXPROCS
	// Nice runs hashing threads at this lower priority (Linux nice, 0-19), so a login flood
	// cannot starve /tokens/verify. Default 10.
	Nice int `mapstructure:"nice"`
	// SchedIdle runs hashing threads under Linux's SCHED_IDLE instead: a request thread that
	// wakes preempts a hash at once (a niced hash may first finish its slice, a few ms), and
	// hashing gets the CPU time requests leave. Default true; with nice 0 and sched_idle false,
	// hashing runs at the requests' priority.
	SchedIdle bool `mapstructure:"sched_idle"`
	// Process hashes in child processes (the binary started as `hash-worker`, one per worker,
	// at that priority), so the serving process never gives a hash a P of its own nor collects
	// argon2's 19 MiB of garbage per hash. Linux; default true; false keeps hashing threads in
	// the serving process.
	Process   bool          `mapstructure:"process"`
	LockAfter int           `mapstructure:"lock_after"` // consecutive failures before a lock, default 10
	LockBase  time.Duration `mapstructure:"lock_base"`  // first lock, doubling, default 1m
	LockMax   time.Duration `mapstructure:"lock_max"`   // default 1h
}

// Bootstrap creates the first admin on start when none exists.
type Bootstrap struct {
	AdminEmail    string `mapstructure:"admin_email"`
	AdminPassword string `mapstructure:"admin_password"`
}

// CoreDefaults are the defaults of every core key; modules add their own.
var CoreDefaults = Defaults{
	"server.addr":               ":8080",
	"server.max_body_bytes":     65536,
	"server.max_header_bytes":   16384,
	"server.read_timeout":       "10s",
	"server.write_timeout":      "30s",
	"server.idle_timeout":       "120s",
	"server.shutdown_timeout":   "15s",
	"server.drain_delay":        "0s",
	"server.gc_percent":         200,
	"log.level":                 "info",
	"log.format":                "json",
	"data.dir":                  "data",
	"database.url":              "",
	"redis.url":                 "",
	"redis.prefix":              "cashless-auth:",
	"redis.cache_ttl":           "2s",
	"jwt.secret":                "",
	"jwt.issuer":                "cashless-auth",
	"jwt.accepted_issuers":      []string{},
	"jwt.audience":              "cashless-platform",
	"jwt.access_ttl":            "15m",
	"jwt.refresh_ttl":           "168h",
	"jwt.offline_ttl":           "72h",
	"jwt.leeway":                "5s",
	"jwt.refresh_reuse_grace":   "0s",
	"jwt.keys_dir":              "",
	"jwt.active_kid":            "",
	"jwt.offline_signing":       "asymmetric",
	"jwt.hs256_until":           "",
	"secrets.encryption_key":    "",
	"mfa.freshness":             "8h",
	"ratelimit.trusted_proxies": []string{},
	"ratelimit.batched_routes":  []string{"session.verify", "forward_auth.check"},
	"ratelimit.batch_interval":  "100ms",
	"password.argon2_memory":    19456,
	"password.argon2_time":      2,
	"password.argon2_threads":   1,
	"password.workers":          0,
	"password.nice":             10,
	"password.sched_idle":       true,
	"password.process":          true,
	"password.lock_after":       10,
	"password.lock_base":        "1m",
	"password.lock_max":         "1h",
	"bootstrap.admin_email":     "",
	"bootstrap.admin_password":  "",
}

// DynamicPrefixes are config maps keyed by names the core cannot list in advance.
var DynamicPrefixes = []string{"ratelimit.routes."}

// LoadCore decodes and validates the core section, reporting every problem at once.
func LoadCore(v *viper.Viper) (Core, error) {
	var c Core
	// Only the core's sections: modules decode their own.
	sections := []struct {
		key    string
		target any
	}{
		{"server", &c.Server}, {"log", &c.Log}, {"data", &c.Data}, {"database", &c.Database},
		{"redis", &c.Redis}, {"jwt", &c.JWT}, {"secrets", &c.Secrets},
		{"ratelimit", &c.RateLimit}, {"password", &c.Password}, {"bootstrap", &c.Bootstrap},
		{"mfa", &c.MFA},
	}
	var errs []error
	for _, s := range sections {
		if err := Decode(v, s.key, s.target); err != nil {
			errs = append(errs, err)
		}
	}
	c.RateLimit.TrustedProxies = StringSlice(v, "ratelimit.trusted_proxies")
	c.JWT.AcceptedIssuers = StringSlice(v, "jwt.accepted_issuers")
	c.RateLimit.BatchedRoutes = StringSlice(v, "ratelimit.batched_routes")
	if len(errs) == 0 {
		errs = append(errs, c.validate()...)
	}
	return c, errors.Join(errs...)
}

// UsesPostgres reports whether the relational store is a shared PostgreSQL server, where
// secrets cannot be generated per replica and must come from configuration.
func (c Core) UsesPostgres() bool {
	u := strings.ToLower(c.Database.URL)
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

func (c Core) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Server.Addr == "" {
		bad("server.addr: must not be empty")
	}
	if c.Server.MaxBodyBytes < 1024 {
		bad("server.max_body_bytes: must be at least 1024, got %d", c.Server.MaxBodyBytes)
	}
	if c.Server.MaxHeaderBytes < 4096 || c.Server.MaxHeaderBytes > 1<<20 {
		bad("server.max_header_bytes: must be between 4096 and 1048576, got %d", c.Server.MaxHeaderBytes)
	}
	if c.Server.ShutdownTimeout <= 0 {
		bad("server.shutdown_timeout: must be positive")
	}
	if c.Server.DrainDelay < 0 || c.Server.DrainDelay > time.Minute {
		bad("server.drain_delay: must be between 0 and 1m")
	}
	if c.Server.GCPercent != 0 && (c.Server.GCPercent < 25 || c.Server.GCPercent > 2000) {
		bad("server.gc_percent: must be 0 (Go's default) or between 25 and 2000, got %d", c.Server.GCPercent)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		bad("log.format: must be json or console, got %q", c.Log.Format)
	}
	u := strings.ToLower(c.Database.URL)
	if u != "" && !c.UsesPostgres() && !strings.HasPrefix(u, "sqlite://") {
		bad("database.url: must be empty (embedded SQLite), postgres://… or sqlite://PATH")
	}
	if r := strings.ToLower(c.Redis.URL); r != "" && !strings.HasPrefix(r, "redis") {
		bad("redis.url: must be empty (in-process state) or a redis://, rediss://, redis+cluster:// or redis+sentinel:// URL")
	}
	if c.Redis.CacheTTL < 0 || c.Redis.CacheTTL > time.Minute {
		bad("redis.cache_ttl: must be between 0 and 1m")
	}
	if c.JWT.Secret != "" && len(c.JWT.Secret) < 32 {
		bad("jwt.secret: must be at least 32 bytes, got %d", len(c.JWT.Secret))
	}
	if c.UsesPostgres() && c.JWT.Secret == "" && c.JWT.ActiveKID == "" {
		bad("jwt.secret: required with PostgreSQL unless jwt.active_kid signs (replicas must share it); set CASHLESS_AUTH_JWT_SECRET")
	}
	if c.JWT.ActiveKID != "" && c.JWT.KeysDir == "" {
		bad("jwt.active_kid: needs jwt.keys_dir")
	}
	switch c.JWT.OfflineSigning {
	case "asymmetric":
	case "hs256":
		if c.UsesPostgres() && c.JWT.Secret == "" {
			bad("jwt.offline_signing: hs256 needs jwt.secret")
		}
	default:
		bad("jwt.offline_signing: must be asymmetric or hs256, got %q", c.JWT.OfflineSigning)
	}
	if c.JWT.HS256Until != "" {
		if _, err := time.Parse(time.RFC3339, c.JWT.HS256Until); err != nil {
			bad("jwt.hs256_until: must be an RFC 3339 time such as 2026-12-09T00:00:00Z, got %q", c.JWT.HS256Until)
		}
	}
	if c.Secrets.EncryptionKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.Secrets.EncryptionKey); err != nil || len(k) != 32 {
			bad("secrets.encryption_key: must be base64 of exactly 32 bytes")
		}
	}
	if c.UsesPostgres() && c.Secrets.EncryptionKey == "" {
		bad("secrets.encryption_key: required with PostgreSQL; set CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY (base64 of 32 random bytes)")
	}
	if c.JWT.Issuer == "" {
		bad("jwt.issuer: must not be empty")
	}
	if c.JWT.Audience == "" {
		bad("jwt.audience: must not be empty")
	}
	for name, d := range map[string]time.Duration{"jwt.access_ttl": c.JWT.AccessTTL, "jwt.refresh_ttl": c.JWT.RefreshTTL, "jwt.offline_ttl": c.JWT.OfflineTTL, "mfa.freshness": c.MFA.Freshness} {
		if d <= 0 {
			bad("%s: must be a positive duration such as 15m", name)
		}
	}
	if c.JWT.Leeway < 0 || c.JWT.Leeway > time.Minute {
		bad("jwt.leeway: must be between 0 and 1m")
	}
	if c.JWT.RefreshReuseGrace < 0 || c.JWT.RefreshReuseGrace > time.Minute {
		bad("jwt.refresh_reuse_grace: must be between 0s (off) and 1m, got %s: within it a replayed refresh token gets the same new pair, so keep it to the seconds a client takes to retry", c.JWT.RefreshReuseGrace)
	}
	for _, p := range c.RateLimit.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("ratelimit.trusted_proxies: %q is not a CIDR or IP address", p)
			}
		}
	}
	if c.Password.Argon2Memory < 19456 || c.Password.Argon2Time < 2 || c.Password.Argon2Threads < 1 {
		bad("password.argon2_*: below the OWASP minimum (memory 19456 KiB, time 2, threads 1)")
	}
	if c.RateLimit.BatchInterval < time.Millisecond || c.RateLimit.BatchInterval > 10*time.Second {
		bad("ratelimit.batch_interval: must be between 1ms and 10s")
	}
	if c.Password.Nice < 0 || c.Password.Nice > 19 {
		bad("password.nice: must be between 0 and 19")
	}
	if c.Password.Workers < 0 {
		bad("password.workers: must be ≥ 0 (0 = one per CPU)")
	}
	if c.Password.LockAfter < 1 || c.Password.LockBase <= 0 || c.Password.LockMax < c.Password.LockBase {
		bad("password.lock_*: lock_after ≥ 1 and 0 < lock_base ≤ lock_max")
	}
	if (c.Bootstrap.AdminEmail == "") != (c.Bootstrap.AdminPassword == "") {
		bad("bootstrap: admin_email and admin_password go together")
	}
	return errs
}
