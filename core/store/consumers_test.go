package store_test

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

func TestConsumersUpsertByPhone(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := newFakeClock(time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		consumers := store.NewConsumers(db)

		c, created, err := consumers.UpsertByPhone(ctx, "+447700900123")
		noErr(t, err)
		if !created || c.Phone == nil || *c.Phone != "+447700900123" || c.FirebaseUID != nil || c.Email != nil ||
			c.CreatedAt != clock.Now() || c.LastLoginAt != clock.Now() {
			t.Fatalf("first UpsertByPhone = %+v, %v", c, created)
		}

		clock.Add(time.Minute)
		again, created, err := consumers.UpsertByPhone(ctx, "+447700900123")
		noErr(t, err)
		if created || again.ID != c.ID || again.CreatedAt != c.CreatedAt || again.LastLoginAt != clock.Now() {
			t.Fatalf("second UpsertByPhone = %+v, %v", again, created)
		}
		if got := must(consumers.ByID(ctx, c.ID))(t); !reflect.DeepEqual(got, again) {
			t.Fatalf("ByID = %+v, want %+v", got, again)
		}
		_, err = consumers.ByID(ctx, c.ID+1000)
		wantErr(t, err, store.ErrNotFound)

		other, created, err := consumers.UpsertByPhone(ctx, "+14155550100")
		noErr(t, err)
		if !created || other.ID == c.ID {
			t.Fatalf("other phone = %+v, %v", other, created)
		}
	})
}

func TestConsumersUpsertByFirebaseUID(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		consumers := store.NewConsumers(db)

		c, created, err := consumers.UpsertByFirebaseUID(ctx, "fb-1", nil, ptr("a@example.com"))
		noErr(t, err)
		if !created || c.FirebaseUID == nil || *c.FirebaseUID != "fb-1" || c.Phone != nil || *c.Email != "a@example.com" {
			t.Fatalf("first login = %+v, %v", c, created)
		}

		// New claims refresh the stored ones; absent claims keep them.
		c2, created, err := consumers.UpsertByFirebaseUID(ctx, "fb-1", ptr("+33612345678"), nil)
		noErr(t, err)
		if created || c2.ID != c.ID || *c2.Phone != "+33612345678" || *c2.Email != "a@example.com" {
			t.Fatalf("second login = %+v, %v", c2, created)
		}
		c3, _, err := consumers.UpsertByFirebaseUID(ctx, "fb-1", nil, ptr("b@example.com"))
		noErr(t, err)
		if *c3.Phone != "+33612345678" || *c3.Email != "b@example.com" {
			t.Fatalf("third login = %+v", c3)
		}

		// A phone already held by another consumer is reported, not silently taken over.
		must(func() (store.Consumer, error) {
			c, _, err := consumers.UpsertByPhone(ctx, "+14155550100")
			return c, err
		}())(t)
		_, _, err = consumers.UpsertByFirebaseUID(ctx, "fb-2", ptr("+14155550100"), nil)
		wantErr(t, err, store.ErrConflict)
		_, _, err = consumers.UpsertByFirebaseUID(ctx, "fb-1", ptr("+14155550100"), nil)
		wantErr(t, err, store.ErrConflict)

		if _, _, err := consumers.UpsertByFirebaseUID(ctx, "", nil, nil); err == nil {
			t.Fatal("empty uid accepted")
		}
	})
}

func TestConsumersConcurrentFirstLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		consumers := store.NewConsumers(db)
		const n = 20
		for _, tc := range []struct {
			name  string
			login func() (store.Consumer, bool, error)
		}{
			{"firebase", func() (store.Consumer, bool, error) {
				return consumers.UpsertByFirebaseUID(ctx, "fb-race", ptr("+12025550123"), ptr("r@example.com"))
			}},
			{"phone", func() (store.Consumer, bool, error) { return consumers.UpsertByPhone(ctx, "+12025550999") }},
		} {
			var creations atomic.Int32
			ids := make([]int64, n)
			errs := make([]error, n)
			race(n, func(i int) {
				c, created, err := tc.login()
				ids[i], errs[i] = c.ID, err
				if created {
					creations.Add(1)
				}
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("%s goroutine %d: %v", tc.name, i, err)
				}
				if ids[i] != ids[0] {
					t.Fatalf("%s: goroutines saw different consumers: %v", tc.name, ids)
				}
			}
			if creations.Load() != 1 {
				t.Fatalf("%s: %d goroutines report creating the consumer, want 1", tc.name, creations.Load())
			}
		}
		var rows int
		noErr(t, db.X.GetContext(ctx, &rows, `SELECT count(*) FROM consumers`))
		if rows != 2 {
			t.Fatalf("%d consumer rows, want 2", rows)
		}
	})
}

func TestConsumersManyDistinct(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		consumers := store.NewConsumers(db)
		seen := map[int64]bool{}
		for i := range 10 {
			c, created, err := consumers.UpsertByFirebaseUID(ctx, fmt.Sprintf("uid-%d", i), nil, nil)
			noErr(t, err)
			if !created || seen[c.ID] {
				t.Fatalf("consumer %d: %+v, created=%v", i, c, created)
			}
			seen[c.ID] = true
		}
	})
}
