package passwordreset_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/modules/passwordreset"
)

// eachBackend runs fn against a fresh database of every backend, migrated as the service does
// with the module enabled: the core's schema, then the module's own.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	storetest.EachBackend(t, fn, store.MigrationSet{Owner: passwordreset.Plugin.Name, FS: passwordreset.Migrations})
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

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func createUser(t *testing.T, db *store.DB, email, role string) int64 {
	t.Helper()
	return must(store.NewUsers(db).Create(t.Context(), store.NewUser{
		Email: email, PasswordHash: "$argon2id$fake", Role: role,
	}))(t)
}

// race runs fn from n goroutines released at the same moment and waits for all of them.
func race(n int, fn func(i int)) {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
