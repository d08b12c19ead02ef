package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/viper"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/audit"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/identity"
	"github.com/cashlessmedia/cashless-auth/core/lockout"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/notbefore"
	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/outage"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/seal"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
	"github.com/cashlessmedia/cashless-auth/core/verify"
	"github.com/cashlessmedia/cashless-auth/docs"
)

// Load reads configuration for the given plugins and validates the core and every enabled
// plugin, joining all problems into one error. overrides (tests, CLI flags) win over files
// and the environment. Keys set under an old name are read and listed in cfg.Renamed, for
// Options (and config-check) to warn about.
func Load(path string, plugins []Plugin, overrides map[string]any) (*viper.Viper, config.Core, error) {
	schema := config.Schema{Defaults: []config.Defaults{config.CoreDefaults}, Dynamic: config.DynamicPrefixes}
	for _, p := range plugins {
		if !p.AlwaysOn {
			schema.Defaults = append(schema.Defaults, config.Defaults{SwitchKey(p.Name): p.EnabledByDefault})
		}
		if p.Config != nil {
			p.Config.schema(p.Name, &schema)
		}
	}
	// Unknown keys and variables are reported with every value error, not instead of them: an
	// operator fixing a config wants the whole list at once.
	v, renamed, unknown := config.Load(path, schema, overrides)
	if v == nil {
		return nil, config.Core{}, unknown
	}
	errs := []error{unknown}
	cfg, err := config.LoadCore(v)
	cfg.Renamed = renamed
	errs = append(errs, err)
	for _, p := range plugins {
		if p.Config == nil {
			continue
		}
		// A disabled module's values are not its operator's concern yet (its unknown keys
		// were reported above); its defaults are checked anyway, so a module's bug shows in
		// every test, not only in those that switch it on.
		if err := p.Config.check(p.Name); err != nil {
			errs = append(errs, err)
		} else if p.Enabled(v) {
			_, err := p.Config.load(v, p.Name, true)
			errs = append(errs, err)
		}
	}
	return v, cfg, errors.Join(errs...)
}

// Options composes the fx graph: the core plus every enabled plugin, each given its own
// section. Disabled plugins contribute nothing, so their routes answer 404 and vanish from
// /openapi.json.
func Options(v *viper.Viper, cfg config.Core, plugins []Plugin, extra ...fx.Option) fx.Option {
	opts := []fx.Option{coreModule(v, cfg), fx.Invoke(func(log *zap.Logger) { WarnRenamed(log, cfg.Renamed) })}
	for _, p := range plugins {
		if p.Enabled(v) {
			opts = append(opts, p.option(v))
			if set, ok := p.migrationSet(); ok {
				opts = append(opts, fx.Supply(fx.Annotate(set, fx.ResultTags(`group:"migrations"`))))
			}
		}
	}
	opts = append(opts, extra...)
	opts = append(opts, fx.WithLogger(func(log *zap.Logger) fxevent.Logger {
		l := &fxevent.ZapLogger{Logger: log.Named("fx")}
		l.UseLogLevel(zapcore.DebugLevel)
		return l
	}))
	return fx.Options(opts...)
}

// WarnRenamed logs, at warn level, each key the configuration set under its old name.
func WarnRenamed(log *zap.Logger, renamed []config.Renamed) {
	for _, r := range renamed {
		log.Warn(r.Message(), zap.String("old_key", r.Old), zap.String("new_key", r.New), zap.Bool("new_key_wins", r.Shadowed))
	}
}

func coreModule(v *viper.Viper, cfg config.Core) fx.Option {
	return fx.Module("core",
		// The raw configuration stays the core's: a module gets its own section (Plugin.Config).
		fx.Supply(fx.Private, v),
		fx.Supply(cfg),
		fx.Provide(
			NewLogger,
			newAccessLogger,
			LoadSecrets,
			NewKeys,
			openDB,
			openState,
			newLimiter,
			newTokens,
			newHasher,
			newNotBefore,
			newSessions,
			newGuards,
			newChecker,
			NewAccountLock,
			newStaffPasswords,
			store.NewUsers, store.NewEvents, store.NewConsumers, store.NewDevices,
			store.NewIdentities,
			identity.New,
			newDocument,
			newHandler,
			newServer,
			metrics.New,
			audit.New,
			newReadiness,
		),
		fx.Invoke(setGCPercent, bootstrapAdmin, func(*Server) {}),
	)
}

// setGCPercent applies server.gc_percent; an explicit GOGC in the environment wins.
func setGCPercent(cfg config.Core) {
	if cfg.Server.GCPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.Server.GCPercent)
	}
}

// NewLogger builds the zap logger the whole process uses: JSON to stderr by default.
func NewLogger(cfg config.Core) (*zap.Logger, error) {
	var zc zap.Config
	if cfg.Log.Format == "console" {
		zc = zap.NewDevelopmentConfig()
	} else {
		zc = zap.NewProductionConfig()
		zc.Sampling = nil
		zc.EncoderConfig.TimeKey = "time"
		zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
		zc.EncoderConfig.EncodeDuration = zapcore.StringDurationEncoder
	}
	lvl, err := zapcore.ParseLevel(cfg.Log.Level)
	if err != nil {
		return nil, err
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.OutputPaths, zc.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	return zc.Build()
}

// AccessLogger writes one line per request through a buffer flushed every second (and at
// stop), so a busy replica does not pay a write syscall per request on the hot path.
type AccessLogger struct{ *zap.Logger }

func newAccessLogger(lc fx.Lifecycle, log *zap.Logger) AccessLogger {
	ws := &zapcore.BufferedWriteSyncer{WS: zapcore.Lock(pipeSyncer{os.Stderr}), Size: 256 << 10, FlushInterval: time.Second}
	buffered := log.Named("access").WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		enc := zap.NewProductionEncoderConfig()
		enc.TimeKey, enc.EncodeTime, enc.EncodeDuration = "time", zapcore.ISO8601TimeEncoder, zapcore.StringDurationEncoder
		level := zapcore.InfoLevel
		if !c.Enabled(zapcore.InfoLevel) {
			level = zapcore.WarnLevel
		}
		return zapcore.NewCore(zapcore.NewJSONEncoder(enc), ws, level)
	}))
	lc.Append(fx.StopHook(ws.Stop))
	return AccessLogger{buffered}
}

// pipeSyncer is stderr whose Sync succeeds where fsync cannot apply: under Kubernetes (and any
// supervisor) stderr is a pipe, fsync on it fails with EINVAL, and the access log's final flush
// at stop would turn every clean SIGTERM into an error and a non-zero exit. The bytes were
// written already; there is nothing to sync.
type pipeSyncer struct{ *os.File }

func (p pipeSyncer) Sync() error {
	err := p.File.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.ENOTTY) {
		return nil
	}
	return err
}

// Secrets are the key material resolved at start.
type Secrets struct {
	JWT           []byte
	EncryptionKey []byte
}

// Derive is a key for one purpose, named by a string no other purpose uses, derived from the
// encryption key: the raw key is never used for two things, and every replica derives the same.
func (s Secrets) Derive(purpose string) []byte {
	mac := hmac.New(sha256.New, s.EncryptionKey)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// LoadSecrets takes keys from configuration or, for the embedded default only, generates them
// once under data.dir so a restart keeps tokens and sealed secrets valid.
func LoadSecrets(cfg config.Core, log *zap.Logger) (Secrets, error) {
	var s Secrets
	if cfg.JWT.Secret != "" {
		s.JWT = []byte(cfg.JWT.Secret)
	} else {
		b, err := loadOrCreate(cfg.Data.Dir, "jwt.secret", func() ([]byte, error) {
			return []byte(base64.RawURLEncoding.EncodeToString(random(48))), nil
		})
		if err != nil {
			return s, err
		}
		log.Warn("jwt.secret not configured: using a generated secret kept under data.dir; set jwt.secret for production", zap.String("data_dir", cfg.Data.Dir))
		s.JWT = b
	}
	if cfg.Secrets.EncryptionKey != "" {
		k, _ := base64.StdEncoding.DecodeString(cfg.Secrets.EncryptionKey)
		s.EncryptionKey = k
	} else {
		b, err := loadOrCreate(cfg.Data.Dir, "encryption.key", func() ([]byte, error) {
			return []byte(base64.StdEncoding.EncodeToString(random(32))), nil
		})
		if err != nil {
			return s, err
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return s, fmt.Errorf("core: %s is not base64 of 32 bytes", filepath.Join(cfg.Data.Dir, "encryption.key"))
		}
		log.Warn("secrets.encryption_key not configured: using a generated key kept under data.dir", zap.String("data_dir", cfg.Data.Dir))
		s.EncryptionKey = k
	}
	return s, nil
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func loadOrCreate(dir, name string, gen func() ([]byte, error)) ([]byte, error) {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		return []byte(strings.TrimSpace(string(b))), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("core: read %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("core: create %s: %w", dir, err)
	}
	b, err := gen()
	if err != nil {
		return nil, err
	}
	// O_EXCL: when two processes start at once, one wins and the other reads its file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreate(dir, name, gen)
	}
	if err != nil {
		return nil, fmt.Errorf("core: create %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return nil, fmt.Errorf("core: write %s: %w", path, err)
	}
	return b, nil
}

// moduleMigrations are the enabled modules' own migration sets (Plugin.Migrations), in catalogue
// order, as Options supplies them.
type moduleMigrations struct {
	fx.In
	Sets []store.MigrationSet `group:"migrations"`
}

func openDB(lc fx.Lifecycle, cfg config.Core, log *zap.Logger, m *metrics.Metrics, mods moduleMigrations) (*store.DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	db, err := store.Open(ctx, cfg.Database.URL, cfg.Data.Dir)
	if err != nil {
		return nil, fmt.Errorf("core: open database %s: %w", store.RedactURL(cfg.Database.URL), err)
	}
	db.OnMigration = func(owner string, version int64, d time.Duration) {
		log.Info("database migration applied", zap.String("owner", migrationOwner(owner)), zap.Int64("version", version), zap.Duration("duration", d))
	}
	watchOutages(m, outage.Database, func(failed func()) { db.OnOutage = failed })
	if err := db.MigrateAll(ctx, mods.Sets); err != nil {
		db.Close()
		return nil, fmt.Errorf("core: migrate: %w", err)
	}
	log.Info("database ready", zap.String("dialect", db.Dialect), zap.String("url", store.RedactURL(cfg.Database.URL)))
	lc.Append(fx.StopHook(db.Close))
	return db, nil
}

func migrationOwner(owner string) string {
	if owner == "" {
		return "core"
	}
	return owner
}

// redisClient is nil for the embedded default.
type redisClient struct{ redis.UniversalClient }

func openState(lc fx.Lifecycle, cfg config.Core, log *zap.Logger, m *metrics.Metrics) (state.Store, redisClient, error) {
	if cfg.Redis.URL == "" {
		log.Warn("redis.url not configured: rate limits, sessions and one-time codes live in this process only; run a single replica")
		mem := state.NewMemory()
		lc.Append(fx.StopHook(mem.Close))
		return mem, redisClient{}, nil
	}
	c, err := state.OpenRedis(cfg.Redis.URL)
	if err != nil {
		return nil, redisClient{}, fmt.Errorf("core: redis.url: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, redisClient{}, fmt.Errorf("core: redis unreachable: %w", err)
	}
	watchOutages(m, outage.Redis, func(failed func()) { state.WatchOutages(c, failed) })
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{log.Named("redis").Sugar()}) })
	st := state.NewRedis(c, cfg.Redis.Prefix)
	lc.Append(fx.StopHook(func() error {
		st.Close()
		return c.Close()
	}))
	return st, redisClient{c}, nil
}

// redisLog takes go-redis's own lines (each failed dial of an outage, pub/sub reconnects) into
// the service's JSON log, at debug level: each failure already has its one line, from the
// request it failed, and its count; plain-text repeats on stderr would multiply an outage's
// lines and break the pipelines that parse the log. go-redis has one logger per process, so
// the first service of the process sets it.
type redisLog struct{ *zap.SugaredLogger }

func (l redisLog) Printf(_ context.Context, format string, v ...any) { l.Debugf(format, v...) }

var redisLogOnce sync.Once

// watchOutages counts the outages of dependency that watch reports, in
// cashless_auth_dependency_errors_total, whose series for it exists at 0 from the first scrape:
// a "no outage yet" reads as 0, not as a missing series an alert cannot tell from a dead target.
func watchOutages(m *metrics.Metrics, dependency string, watch func(failed func())) {
	m.DepErrors.WithLabelValues(dependency)
	watch(func() { m.DependencyError(dependency) })
}

// Limiters are the exact shared limiter and, with Redis, the batched one for hot routes.
type Limiters struct {
	Exact   ratelimit.Limiter
	Batched ratelimit.Limiter // nil without Redis: in-process limits are already local
}

func newLimiter(cfg config.Core, rc redisClient, lc fx.Lifecycle) (ratelimit.Limiter, Limiters) {
	if rc.UniversalClient == nil {
		m := ratelimit.NewMemory()
		return m, Limiters{Exact: m}
	}
	exact := ratelimit.NewRedis(rc.UniversalClient, cfg.Redis.Prefix)
	batched := ratelimit.NewBatched(ratelimit.NewRedisWindows(rc.UniversalClient, cfg.Redis.Prefix), cfg.RateLimit.BatchInterval)
	lc.Append(fx.StopHook(batched.Close))
	return exact, Limiters{Exact: exact, Batched: batched}
}

func newTokens(cfg config.Core, s Secrets, m *metrics.Metrics) (*tokens.Service, error) {
	tc := tokens.Config{Secret: s.JWT, ActiveKID: cfg.JWT.ActiveKID, Issuer: cfg.JWT.Issuer, AcceptedIssuers: cfg.JWT.AcceptedIssuers, Audience: cfg.JWT.Audience, Leeway: cfg.JWT.Leeway, OnIssue: m.Issued,
		OfflineHS256: cfg.JWT.OfflineSigning == "hs256", HS256Until: cfg.JWT.HS256UntilTime()}
	if cfg.UsesPostgres() && cfg.JWT.Secret == "" {
		// Replicas signing with the keyring and no shared secret generate one each: a key
		// derived from it would differ per replica (and so would the JWKS).
		tc.Secret = nil
	}
	if cfg.JWT.KeysDir != "" {
		keys, err := tokens.LoadKeysDir(cfg.JWT.KeysDir)
		if err != nil {
			return nil, err
		}
		tc.Keys = keys
	}
	return tokens.New(tc)
}

// baseProcs is GOMAXPROCS as the runtime chose it (CPU count or container limit), read before
// any hash lent spare Ps.
var baseProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

type hasherParams struct {
	fx.In
	LC      fx.Lifecycle
	Cfg     config.Core
	Log     *zap.Logger
	Metrics *metrics.Metrics
	// Worker is how this program starts itself as a hash worker, supplied by a program that
	// has that role (cmd/cashless-auth's hash-worker subcommand). Absent (tests, other
	// programs), password.process cannot be honoured: starting a program that does not serve
	// the role would run it whole.
	Worker *passwords.WorkerCommand `optional:"true"`
}

func newHasher(p hasherParams) *passwords.Hasher {
	cfg := p.Cfg
	cpus := baseProcs()
	workers := cfg.Password.Workers
	if workers <= 0 {
		workers = cpus
	}
	iso := passwords.Isolation{Nice: cfg.Password.Nice, Idle: cfg.Password.SchedIdle}
	if cfg.Password.Process && (iso.Idle || iso.Nice > 0) {
		if iso.Process = p.Worker; p.Worker == nil {
			p.Log.Warn("password.process: this program has no hash worker role; hashing in threads of the serving process")
		}
	}
	if iso.Process != nil {
		if from, to, ok := leaveMemoryToWorkers(workers, cfg.Password.Argon2Memory); ok {
			p.Log.Info("memory limit lowered by the hash workers' share", zap.Int64("from", from), zap.Int64("to", to), zap.Int("workers", workers))
		}
	}
	h := passwords.New(passwords.Params{Memory: cfg.Password.Argon2Memory, Time: cfg.Password.Argon2Time, Threads: cfg.Password.Argon2Threads}, workers, iso)
	p.LC.Append(fx.StopHook(h.Close))
	p.Metrics.PasswordVerifications(h.Verifications)
	return h
}

// workerOverhead is a hash worker's own footprint beside argon2's buffer: its Go runtime and
// binary pages (~20 MiB measured in make bench, phase e), rounded up.
const workerOverhead = 24 << 20

// leaveMemoryToWorkers lowers the runtime's memory limit (GOMEMLIMIT, which the chart sets to the
// container's memory limit) by the hash workers' share. The limit is this process's alone, but
// its workers live in the same container: without the adjustment the collector aims at a heap
// the container cannot hold beside them, and the pod is killed instead of collecting. Never
// below half the limit; nothing to do without a limit.
func leaveMemoryToWorkers(workers int, argon2KiB uint32) (from, to int64, ok bool) {
	from = debug.SetMemoryLimit(-1)
	if from == math.MaxInt64 || workers <= 0 {
		return from, from, false
	}
	share := int64(workers) * (int64(argon2KiB)<<10 + workerOverhead)
	to = max(from-share, from/2)
	debug.SetMemoryLimit(to)
	return from, to, true
}

// sessionsChannel carries session revocations to every replica's cache of live sessions.
const sessionsChannel = "revoked:sessions"

func newSessions(lc fx.Lifecycle, t *tokens.Service, st state.Store, cfg config.Core, nb *notbefore.Service, users *store.Users, s Secrets) (*sessions.Service, error) {
	alive := NewRevocationCache[struct{}](lc, st, cfg, sessionsChannel)
	sc := sessions.Config{AccessTTL: cfg.JWT.AccessTTL, RefreshTTL: cfg.JWT.RefreshTTL, NotBefore: nb, Binding: eventBinding{users}}
	if cfg.JWT.RefreshReuseGrace > 0 {
		sealer, err := seal.New(s.Derive("cashless-auth/sessions/rotated-pair/v1"))
		if err != nil {
			return nil, err
		}
		sc.ReuseGrace, sc.Sealer = cfg.JWT.RefreshReuseGrace, sealer
	}
	return sessions.New(t, st, sc, alive), nil
}

type checkerParams struct {
	fx.In
	Tokens    *tokens.Service
	Sessions  *sessions.Service
	Verifiers []verify.Verifier `group:"token_verifiers"`
}

func newChecker(p checkerParams) *verify.Checker {
	return verify.NewChecker(p.Tokens, p.Sessions, p.Verifiers)
}

func newGuards(t *tokens.Service, s *sessions.Service, cfg config.Core) *auth.Guards {
	return auth.NewGuards(t, s, cfg.MFA.Freshness)
}

// AccountLock is the per-account password lock of NOTES.md, shared by password-checking lanes.
type AccountLock struct {
	*lockout.Locker
	targetKey []byte // HMAC key naming accounts in the state store
}

// maxLockTargets bounds the per-account counters the in-process store keeps (~150 bytes each:
// some 75 MB at most). Failures are remembered for a day, so e-mails sprayed at the login
// would otherwise grow the heap without end. At the limit a guess at an e-mail not already
// counted is refused as if locked (fail closed: an uncounted guess would be an unlimited one).
// Redis is bounded by its own memory policy.
const maxLockTargets = 500_000

// NewAccountLock is the lock over st, for the service and for commands that lift it.
func NewAccountLock(st state.Store, cfg config.Core, s Secrets) AccountLock {
	if kl, ok := st.(state.KeyLimiter); ok {
		kl.LimitKeys(lockout.KeyPrefix+loginLockPrefix, maxLockTargets)
	}
	return AccountLock{
		Locker:    lockout.New(st, lockout.Policy{After: cfg.Password.LockAfter, Base: cfg.Password.LockBase, Max: cfg.Password.LockMax}),
		targetKey: s.Derive("cashless-auth/account-lock/target-key/v1"),
	}
}

// Document assembles the OpenAPI document of the plugins enabled under v without building the
// rest of the service (no database, Redis or secrets): `cashless-auth openapi` prints it
// without touching a store. Plugin modules only provide and supply, so nothing else runs.
func Document(v *viper.Viper, plugins []Plugin) (*openapi.Document, error) {
	opts := []fx.Option{fx.NopLogger, fx.Provide(newDocument)}
	for _, p := range plugins {
		if p.Enabled(v) {
			opts = append(opts, p.option(v))
		}
	}
	var doc *openapi.Document
	app := fx.New(append(opts, fx.Populate(&doc))...)
	return doc, app.Err()
}

// newDocument assembles the enabled modules' fragments, refusing to start if any of them
// changed what the legacy contract says of an operation or schema it serves (the contract is a
// floor: modules add, they never alter).
func newDocument(in fragments) (*openapi.Document, error) {
	if err := openapi.Conforms(docs.Contract, in.Fragments); err != nil {
		return nil, err
	}
	return openapi.Assemble(in.Fragments)
}

var _ http.Handler = (*Server)(nil)
