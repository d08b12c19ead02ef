package store_test

import (
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
		if !created || c.Phone == nil || *c.Phone != "+447700900123" || c.Email != nil ||
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

func TestConsumersConcurrentFirstLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		consumers := store.NewConsumers(db)
		const n = 20
		var creations atomic.Int32
		ids := make([]int64, n)
		errs := make([]error, n)
		race(n, func(i int) {
			c, created, err := consumers.UpsertByPhone(ctx, "+12025550999")
			ids[i], errs[i] = c.ID, err
			if created {
				creations.Add(1)
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: %v", i, err)
			}
			if ids[i] != ids[0] {
				t.Fatalf("goroutines saw different consumers: %v", ids)
			}
		}
		if creations.Load() != 1 {
			t.Fatalf("%d goroutines report creating the consumer, want 1", creations.Load())
		}
		var rows int
		noErr(t, db.X.GetContext(ctx, &rows, `SELECT count(*) FROM consumers`))
		if rows != 1 {
			t.Fatalf("%d consumer rows, want 1", rows)
		}
	})
}
