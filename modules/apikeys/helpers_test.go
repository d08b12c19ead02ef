package apikeys_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/modules/apikeys"
)

// eachBackend runs fn against a fresh database of every backend, migrated as the service does
// with the module enabled: the core's schema, then the module's own.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, b)
			if err := db.MigrateSet(t.Context(), store.MigrationSet{Owner: apikeys.Plugin.Name, FS: apikeys.Migrations}); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}

// fakeClock is a settable clock for store.DB.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// must turns a (value, error) result into the value, failing t on error: must(f())(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func createEvent(t *testing.T, db *store.DB, name string) int64 {
	t.Helper()
	return must(store.NewEvents(db).Create(t.Context(), name))(t)
}
