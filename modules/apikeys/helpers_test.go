package apikeys_test

import (
	"errors"
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
	storetest.EachBackend(t, fn, store.MigrationSet{Owner: apikeys.Plugin.Name, FS: apikeys.Migrations})
}

func newFakeClock(t time.Time) *storetest.Clock { return storetest.NewClock(t) }

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
