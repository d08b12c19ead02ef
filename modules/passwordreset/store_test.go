package passwordreset_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/modules/passwordreset"
)

func TestPasswordResets(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		start := time.Date(2030, 3, 1, 10, 0, 0, 0, time.UTC)
		clock := newFakeClock(start)
		db.Now = clock.Now
		resets := passwordreset.NewResets(db)
		admin := createUser(t, db, "admin@x.io", store.RoleAdmin)
		other := createUser(t, db, "other@x.io", store.RoleAdmin)

		expires := start.Add(30 * time.Minute)
		must(resets.Create(ctx, admin, "tok-1", expires))(t)
		_, err := resets.Create(ctx, other, "tok-1", expires)
		wantErr(t, err, store.ErrConflict)
		_, err = resets.Create(ctx, admin+1000, "tok-x", expires)
		wantErr(t, err, store.ErrReference)

		uid, err := resets.Consume(ctx, "tok-1", start.Add(time.Minute))
		noErr(t, err)
		if uid != admin {
			t.Fatalf("Consume user = %d, want %d", uid, admin)
		}
		_, err = resets.Consume(ctx, "tok-1", start.Add(2*time.Minute))
		wantErr(t, err, store.ErrNotFound)
		_, err = resets.Consume(ctx, "tok-unknown", start)
		wantErr(t, err, store.ErrNotFound)

		// Expiry is exclusive and exact to the microsecond.
		must(resets.Create(ctx, admin, "tok-2", expires))(t)
		_, err = resets.Consume(ctx, "tok-2", expires)
		wantErr(t, err, store.ErrNotFound)
		_, err = resets.Consume(ctx, "tok-2", expires.Add(time.Hour))
		wantErr(t, err, store.ErrNotFound)
		uid, err = resets.Consume(ctx, "tok-2", expires.Add(-time.Microsecond))
		noErr(t, err)
		if uid != admin {
			t.Fatalf("Consume just before expiry = %d", uid)
		}
	})
}

func TestPasswordResetsCountAndDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		start := time.Date(2030, 3, 1, 10, 0, 0, 0, time.UTC)
		clock := newFakeClock(start)
		db.Now = clock.Now
		resets := passwordreset.NewResets(db)
		admin := createUser(t, db, "admin@x.io", store.RoleAdmin)
		other := createUser(t, db, "other@x.io", store.RoleAdmin)

		must(resets.Create(ctx, admin, "a1", start.Add(30*time.Minute)))(t)
		clock.Add(20 * time.Minute)
		must(resets.Create(ctx, admin, "a2", clock.Now().Add(30*time.Minute)))(t)
		must(resets.Create(ctx, other, "o1", clock.Now().Add(30*time.Minute)))(t)
		clock.Add(20 * time.Minute)
		must(resets.Create(ctx, admin, "a3", clock.Now().Add(30*time.Minute)))(t)

		for since, want := range map[time.Time]int{
			start:                                           3,
			start.Add(time.Microsecond):                     2,
			start.Add(20 * time.Minute):                     2, // inclusive
			clock.Now().Add(-time.Hour):                     3,
			clock.Now():                                     1,
			clock.Now().Add(time.Microsecond):               0,
			clock.Now().Add(-39 * time.Minute):              2,
			start.Add(20*time.Minute + time.Nanosecond*999): 2, // sub-microsecond part is dropped
		} {
			if n := must(resets.CountSince(ctx, admin, since))(t); n != want {
				t.Errorf("CountSince(%v) = %d, want %d", since.Sub(start), n, want)
			}
		}
		if n := must(resets.CountSince(ctx, other, start))(t); n != 1 {
			t.Errorf("other user's count = %d", n)
		}

		noErr(t, resets.DeleteForUser(ctx, admin))
		noErr(t, resets.DeleteForUser(ctx, admin)) // nothing left: still fine
		if n := must(resets.CountSince(ctx, admin, start))(t); n != 0 {
			t.Fatalf("after DeleteForUser count = %d", n)
		}
		_, err := resets.Consume(ctx, "a3", clock.Now())
		wantErr(t, err, store.ErrNotFound)
		if n := must(resets.CountSince(ctx, other, start))(t); n != 1 {
			t.Fatalf("DeleteForUser touched another user: %d", n)
		}

		// Deleting the user takes the tokens along.
		noErr(t, store.NewUsers(db).Delete(ctx, other))
		_, err = resets.Consume(ctx, "o1", clock.Now())
		wantErr(t, err, store.ErrNotFound)
		if n := must(resets.CountSince(ctx, other, start))(t); n != 0 {
			t.Fatalf("tokens of deleted user remain: %d", n)
		}
	})
}

func TestPasswordResetsConsumeRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		resets := passwordreset.NewResets(db)
		admin := createUser(t, db, "admin@x.io", store.RoleAdmin)
		now := time.Now()
		must(resets.Create(ctx, admin, "race", now.Add(30*time.Minute)))(t)

		var wins atomic.Int32
		errs := make([]error, 20)
		race(20, func(i int) {
			_, err := resets.Consume(ctx, "race", now)
			if err == nil {
				wins.Add(1)
			} else {
				errs[i] = err
			}
		})
		if wins.Load() != 1 {
			t.Fatalf("token consumed %d times, want once", wins.Load())
		}
		for _, err := range errs {
			if err != nil {
				wantErr(t, err, store.ErrNotFound)
			}
		}
	})
}
