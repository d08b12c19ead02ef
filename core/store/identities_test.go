package store_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

const issuer = "https://securetoken.google.com/demo"

func TestIdentitiesCreateTouchLink(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := newFakeClock(time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		ids, consumers := store.NewIdentities(db), store.NewConsumers(db)

		_, err := ids.Touch(ctx, issuer, "u1")
		wantErr(t, err, store.ErrNotFound)
		id, created, err := ids.Create(ctx, issuer, "u1", nil, ptr("a@example.com"))
		noErr(t, err)
		c := must(consumers.ByID(ctx, id))(t)
		if !created || c.Phone != nil || c.Email == nil || *c.Email != "a@example.com" || c.CreatedAt != clock.Now() {
			t.Fatalf("created consumer %+v, created=%v", c, created)
		}
		// The same subject at another issuer is another identity, and so another consumer.
		other, created, err := ids.Create(ctx, "https://accounts.google.com", "u1", nil, nil)
		noErr(t, err)
		if !created || other == id {
			t.Fatalf("same sub at another issuer: consumer %d (created=%v), first was %d", other, created, id)
		}
		// Creating an identity that exists creates nothing and names its consumer.
		again, created, err := ids.Create(ctx, issuer, "u1", nil, nil)
		noErr(t, err)
		if created || again != id {
			t.Fatalf("second Create = %d, created=%v; want %d, false", again, created, id)
		}

		clock.Add(time.Minute)
		if got := must(ids.Touch(ctx, issuer, "u1"))(t); got != id {
			t.Fatalf("Touch = %d, want %d", got, id)
		}
		var seen int64
		noErr(t, db.X.GetContext(ctx, &seen, db.X.Rebind(`SELECT count(*) FROM identities WHERE last_seen_at > created_at AND subject = ?`), "u1"))
		if seen != 1 {
			t.Fatal("Touch did not record the sign-in")
		}

		// Link attaches a second identity to an existing consumer; linking it again elsewhere
		// keeps the first link.
		if got := must(ids.Link(ctx, "https://keycloak.example/realms/x", "k1", id))(t); got != id {
			t.Fatalf("Link = %d, want %d", got, id)
		}
		if got := must(ids.Link(ctx, "https://keycloak.example/realms/x", "k1", other))(t); got != id {
			t.Fatalf("relinking an identity moved it to %d", got)
		}
		_, err = ids.Link(ctx, "https://keycloak.example/realms/x", "k2", id+1000)
		wantErr(t, err, store.ErrReference)

		for _, bad := range [][2]string{{"", "s"}, {issuer, ""}} {
			if _, _, err := ids.Create(ctx, bad[0], bad[1], nil, nil); err == nil {
				t.Fatalf("Create(%q, %q) accepted", bad[0], bad[1])
			}
		}
	})
}

func TestConsumersSignedIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ids, consumers := store.NewIdentities(db), store.NewConsumers(db)
		id, _ := must2(ids.Create(ctx, issuer, "u1", nil, ptr("a@example.com")))(t)

		// New claims refresh the stored ones; absent claims keep them.
		c := must(consumers.SignedIn(ctx, id, ptr("+33612345678"), nil))(t)
		if *c.Phone != "+33612345678" || *c.Email != "a@example.com" {
			t.Fatalf("after phone claim: %+v", c)
		}
		c = must(consumers.SignedIn(ctx, id, nil, ptr("b@example.com")))(t)
		if *c.Phone != "+33612345678" || *c.Email != "b@example.com" {
			t.Fatalf("after e-mail claim: %+v", c)
		}

		// A phone another consumer holds is reported, never taken over.
		must2(consumers.UpsertByPhone(ctx, "+14155550100"))(t)
		_, err := consumers.SignedIn(ctx, id, ptr("+14155550100"), nil)
		wantErr(t, err, store.ErrConflict)
		_, _, err = ids.Create(ctx, issuer, "u2", ptr("+14155550100"), nil)
		wantErr(t, err, store.ErrConflict)
		// ... and the failed creation left no half: neither a consumer nor an identity.
		_, err = ids.Touch(ctx, issuer, "u2")
		wantErr(t, err, store.ErrNotFound)
		var rows int
		noErr(t, db.X.GetContext(ctx, &rows, `SELECT count(*) FROM consumers`))
		if rows != 2 {
			t.Fatalf("%d consumers, want 2", rows)
		}
		_, err = consumers.SignedIn(ctx, id+1000, nil, nil)
		wantErr(t, err, store.ErrNotFound)
	})
}

// TestIdentitiesConcurrentFirstSignIn: first sign-ins of one identity racing each other yield one
// consumer and one link, and every racer learns which; the losers' consumers do not survive.
func TestIdentitiesConcurrentFirstSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ids := store.NewIdentities(db)
		const n = 20
		for _, phone := range []*string{nil, ptr("+12025550123")} {
			sub := fmt.Sprintf("race-%v", phone != nil)
			var creations atomic.Int32
			got := make([]int64, n)
			errs := make([]error, n)
			race(n, func(i int) {
				id, created, err := ids.Create(ctx, issuer, sub, phone, nil)
				if errors.Is(err, store.ErrConflict) && phone != nil {
					// The winner's row holds the phone: PostgreSQL may report that before the
					// identity's own conflict. The identity is linked by then.
					id, err = ids.Touch(ctx, issuer, sub)
				}
				got[i], errs[i] = id, err
				if created {
					creations.Add(1)
				}
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("%s goroutine %d: %v", sub, i, err)
				}
				if got[i] != got[0] {
					t.Fatalf("%s: racers saw different consumers: %v", sub, got)
				}
			}
			if creations.Load() != 1 {
				t.Fatalf("%s: %d racers report creating, want 1", sub, creations.Load())
			}
		}
		var rows int
		noErr(t, db.X.GetContext(ctx, &rows, `SELECT count(*) FROM consumers`))
		if rows != 2 {
			t.Fatalf("%d consumer rows, want 2 (one per identity)", rows)
		}
	})
}
