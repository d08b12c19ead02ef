package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
)

// eachBackend runs fn against a fresh, migrated database of every backend, in parallel.
func eachBackend(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	storetest.EachBackend(t, fn)
}

func newFakeClock(t time.Time) *storetest.Clock { return storetest.NewClock(t) }

// must turns a (value, error) result into the value, failing t on error:
// must(f())(t). The curried form is what lets f's two results be passed whole.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// must2 is must for a three-result call; the second value rides along.
func must2[T, U any](v T, u U, err error) func(t *testing.T) (T, U) {
	return func(t *testing.T) (T, U) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v, u
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func ptr[T any](v T) *T { return &v }

func createEvent(t *testing.T, db *store.DB, name string) int64 {
	t.Helper()
	return must(store.NewEvents(db).Create(t.Context(), name))(t)
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
