// Package testkit boots the real service (fx graph, HTTP listener, real stores) for HTTP tests,
// on both backends: the embedded default (SQLite + in-process state) and PostgreSQL + Redis.
// Every response a test receives is checked against the contract.
package testkit

import (
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Options shape one test server.
type Options struct {
	Plugins []core.Plugin
	// ConfigFile, when set, is read as config.yaml is by `serve --config`: its unknown keys and
	// bad values fail the start. Config (and the test settings below) win over it.
	ConfigFile string
	// Config overrides, by flattened key ("modules.password.enabled": false).
	Config map[string]any
	// Log, when set, replaces the service's logger (log.level aside), for tests that check
	// what the service logs (zaptest/observer).
	Log *zap.Logger
}

// Env is one running server and handles on its real collaborators.
type Env struct {
	Backend string // "embedded" or "postgres"
	URL     string
	Client  *Client
	DB      *store.DB
	State   state.Store
	Tokens  *tokens.Service
	Server  *core.Server
	// RedisPrefix is the keyspace of the postgres backend; a second replica started with
	// Config{"redis.prefix": env.RedisPrefix} shares its state.
	RedisPrefix string
}

// ForEachBackend runs fn as a subtest on each backend, each with its own fresh database and
// keyspace. Set CASHLESS_AUTH_TEST_BACKENDS=embedded to skip the servers while iterating locally.
// Under -short the postgres subtest is reported as skipped without contacting PostgreSQL or Redis.
func ForEachBackend(t *testing.T, opts Options, fn func(t *testing.T, env *Env)) {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		b := b
		t.Run(b.Name, func(t *testing.T) {
			fn(t, Start(t, b, opts))
		})
	}
	for _, name := range storetest.Skipped(t) {
		t.Run(name, func(t *testing.T) {
			t.Skipf("testkit: -short: the %s backend needs PostgreSQL (%s) and Redis (%s); `make test` runs it",
				name, storetest.EnvDatabaseURL, statetest.EnvRedisURL)
		})
	}
}

// Start boots a server on backend b and stops it when the test ends.
func Start(t testing.TB, b storetest.Backend, opts Options) *Env {
	t.Helper()
	cfg := map[string]any{
		"server.addr":            "127.0.0.1:0",
		"data.dir":               b.DataDir,
		"database.url":           b.URL,
		"log.level":              "error",
		"jwt.secret":             "test-secret-test-secret-test-secret-0123",
		"secrets.encryption_key": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		// Tests would otherwise spend most of their time hashing.
		"password.argon2_memory": 19456,
		"password.argon2_time":   2,
		// SCHED_IDLE hashing gets no CPU while anything else is runnable: on a CI machine
		// compiling and linting beside the tests, a login then outlived the 30 s write timeout.
		// These tests check behaviour; core/passwords tests the scheduling.
		"password.sched_idle": false,
	}
	if b.Name == "postgres" {
		c := statetest.Client(t)
		cfg["redis.url"] = statetest.RedisURL()
		cfg["redis.prefix"] = statetest.Prefix(t, c)
	}
	for k, v := range opts.Config {
		cfg[k] = v
	}
	// The environment of the developer's shell must not leak into tests.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CASHLESS_AUTH_") && !strings.HasPrefix(kv, "CASHLESS_AUTH_TEST_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "") // viper ignores empty variables
		}
	}
	v, c, err := core.Load(opts.ConfigFile, opts.Plugins, cfg)
	if err != nil {
		t.Fatalf("testkit: config: %v", err)
	}
	env := &Env{Backend: b.Name}
	env.RedisPrefix, _ = cfg["redis.prefix"].(string)
	extra := []fx.Option{fx.Populate(&env.Server, &env.DB, &env.State, &env.Tokens)}
	if opts.Log != nil {
		extra = append(extra, fx.Decorate(func(*zap.Logger) *zap.Logger { return opts.Log }))
	}
	app := fx.New(
		core.Options(v, c, opts.Plugins, extra...),
		fx.NopLogger,
	)
	if err := app.Err(); err != nil {
		t.Fatalf("testkit: build app: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("testkit: start app: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := app.Stop(ctx); err != nil {
			t.Errorf("testkit: stop app: %v", err)
		}
	})
	env.URL = "http://" + env.Server.Addr()
	env.Client = NewClient(t, env.URL)
	return env
}
