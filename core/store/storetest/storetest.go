// Package storetest gives tests a fresh, migrated database on every backend the store supports.
//
// Environment:
//   - CASHLESS_AUTH_TEST_DATABASE_URL: PostgreSQL server used to create throw-away databases
//     (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). The role needs
//     CREATEDB.
//   - CASHLESS_AUTH_TEST_BACKENDS: comma-separated subset of "embedded,postgres" to run (default
//     both). Limiting it to "embedded" is one way to run without PostgreSQL: an unreachable
//     server otherwise fails the test rather than skipping, so CI cannot pass by accident.
//
// Under `go test -short` (make test-short) the PostgreSQL backend is left out without any
// connection attempt: the embedded backend still runs, and a test that selected only PostgreSQL
// is skipped with a message naming the service. Only -short does this; the full run (make test)
// still fails loudly when PostgreSQL is missing.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/lib/pq"
)

// Environment variables read by this package.
const (
	EnvDatabaseURL = "CASHLESS_AUTH_TEST_DATABASE_URL"
	EnvBackends    = "CASHLESS_AUTH_TEST_BACKENDS"
)

// DefaultDatabaseURL is the PostgreSQL server used when EnvDatabaseURL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Backend names.
const (
	Embedded = "embedded"
	Postgres = "postgres"
)

// Backend names a database backend under test.
type Backend struct {
	Name    string // Embedded or Postgres
	URL     string // for store.Open
	DataDir string // for store.Open
}

// Backends returns both backends (or those selected by EnvBackends), each a fresh empty database
// for this test: a SQLite file in t.TempDir(), and a new PostgreSQL database dropped at cleanup.
//
// Under -short PostgreSQL is never contacted: it is left out (with a log line saying so), and when
// it was the only backend selected the test is skipped (see SkipPostgresMessage).
func Backends(t testing.TB) []Backend {
	t.Helper()
	names, skipped := split(t)
	if len(skipped) > 0 {
		if len(names) == 0 {
			t.Skip(SkipPostgresMessage())
		}
		t.Log(SkipPostgresMessage())
	}
	var out []Backend
	for _, name := range names {
		switch name {
		case Embedded:
			dir := t.TempDir()
			out = append(out, Backend{
				Name:    Embedded,
				URL:     "sqlite://" + filepath.Join(dir, store.EmbeddedFileName),
				DataDir: dir,
			})
		case Postgres:
			out = append(out, Backend{Name: Postgres, URL: createPostgresDB(t), DataDir: t.TempDir()})
		}
	}
	return out
}

// Open opens and migrates the backend's database and closes it at cleanup.
func Open(t testing.TB, b Backend) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, b.URL, b.DataDir)
	if err != nil {
		t.Fatalf("storetest: open %s database: %v", b.Name, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s database: %v", b.Name, err)
	}
	return db
}

// short reports whether PostgreSQL is to be left alone; a variable so this package's own tests
// can check both behaviours in one run.
var short = testing.Short

// Skipped returns the backends EnvBackends selects that Backends leaves out of this run:
// PostgreSQL under -short, otherwise none. Helpers that loop over Backends use it to report the
// missing backend as a skipped subtest.
func Skipped(t testing.TB) []string {
	t.Helper()
	_, skipped := split(t)
	return skipped
}

// split divides the selected backends into those to run and those -short leaves out.
func split(t testing.TB) (run, skipped []string) {
	t.Helper()
	for _, n := range selected(t) {
		if n == Postgres && short() {
			skipped = append(skipped, n)
		} else {
			run = append(run, n)
		}
	}
	return run, skipped
}

// SkipPostgresMessage says why the PostgreSQL backend does not run under -short and how to run it.
func SkipPostgresMessage() string {
	return fmt.Sprintf("storetest: -short: PostgreSQL backend skipped, it needs a PostgreSQL server "+
		"(%s, default %s); `make test` runs it", EnvDatabaseURL, store.RedactURL(DefaultDatabaseURL))
}

func selected(t testing.TB) []string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(EnvBackends))
	if v == "" {
		return []string{Embedded, Postgres}
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		switch n {
		case Embedded, Postgres:
			names = append(names, n)
		case "":
		default:
			t.Fatalf("storetest: %s=%q: unknown backend %q (want a comma-separated subset of %q and %q)",
				EnvBackends, v, n, Embedded, Postgres)
		}
	}
	if len(names) == 0 {
		// An empty selection would let every backend loop pass vacuously.
		t.Fatalf("storetest: %s=%q selects no backend", EnvBackends, v)
	}
	return names
}

var (
	adminMu    sync.Mutex
	adminPools = map[string]*sql.DB{}
)

// adminDB returns a pool on the server's maintenance database, shared by all tests of the
// process so that each test pays only for CREATE DATABASE, not for a new connection.
func adminDB(t testing.TB, serverURL string) *sql.DB {
	t.Helper()
	adminMu.Lock()
	defer adminMu.Unlock()
	if db, ok := adminPools[serverURL]; ok {
		return db
	}
	db, err := sql.Open("postgres", serverURL)
	if err != nil {
		t.Fatalf("storetest: PostgreSQL URL %s (from %s) is invalid: %v", store.RedactURL(serverURL), EnvDatabaseURL, err)
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		t.Fatalf("storetest: PostgreSQL at %s is unreachable: %v\n"+
			"Start it, point %s at a server whose role may CREATE DATABASE, "+
			"or set %s=%s to test only the embedded backend.",
			store.RedactURL(serverURL), err, EnvDatabaseURL, EnvBackends, Embedded)
	}
	adminPools[serverURL] = db
	return db
}

func createPostgresDB(t testing.TB) string {
	t.Helper()
	serverURL := os.Getenv(EnvDatabaseURL)
	if serverURL == "" {
		serverURL = DefaultDatabaseURL
	}
	admin := adminDB(t, serverURL)

	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "cashless_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		t.Fatalf("storetest: create database on %s: %v", store.RedactURL(serverURL), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends connections the test forgot to close (PostgreSQL 13+).
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("storetest: parse %s: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// String makes failures name the backend.
func (b Backend) String() string {
	return fmt.Sprintf("%s(%s)", b.Name, store.RedactURL(b.URL))
}

// EachBackend runs fn as a parallel subtest against a fresh database of every backend, migrated
// as the service migrates it with the given modules enabled: the core's schema, then each
// module's own set (for a module's repository tests: store.MigrationSet{Owner: Plugin.Name, FS:
// Plugin.Migrations}).
func EachBackend(t *testing.T, fn func(t *testing.T, db *store.DB), modules ...store.MigrationSet) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			db := Open(t, b)
			for _, m := range modules {
				if err := db.MigrateSet(t.Context(), m); err != nil {
					t.Fatalf("storetest: migrate %s on %s: %v", m.Owner, b.Name, err)
				}
			}
			fn(t, db)
		})
	}
}

// Clock is a settable clock for store.DB.Now, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
