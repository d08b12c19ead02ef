package apikeys_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/modules/apikeys"
)

func TestEventClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clients := apikeys.NewEventClients(db)
		ev := createEvent(t, db, "e")

		c := must(clients.Create(ctx, apikeys.NewEventClient{
			EventID: ev, Name: "gate scanner", Prefix: "cak_ab12", Hash: "hash-1", Scopes: []string{"tickets:read", "wallet:charge"},
		}))(t)
		if c.ID == 0 || c.EventID != ev || c.Name != "gate scanner" || c.Prefix != "cak_ab12" ||
			c.Hash == nil || *c.Hash != "hash-1" || !slices.Equal(c.Scopes, []string{"tickets:read", "wallet:charge"}) ||
			c.CreatedAt.IsZero() || c.RevokedAt != nil || c.Revoked() {
			t.Fatalf("Create = %+v", c)
		}
		got := must(clients.ByHash(ctx, "hash-1"))(t)
		if got.ID != c.ID || !slices.Equal(got.Scopes, c.Scopes) || got.CreatedAt != c.CreatedAt {
			t.Fatalf("ByHash = %+v, want %+v", got, c)
		}
		_, err := clients.ByHash(ctx, "hash-unknown")
		wantErr(t, err, store.ErrNotFound)

		empty := must(clients.Create(ctx, apikeys.NewEventClient{EventID: ev, Name: "no scopes", Prefix: "cak_x", Hash: "hash-2"}))(t)
		if empty.Scopes == nil || len(empty.Scopes) != 0 {
			t.Fatalf("nil scopes read back as %#v", empty.Scopes)
		}

		_, err = clients.Create(ctx, apikeys.NewEventClient{EventID: ev, Name: "dup", Prefix: "p", Hash: "hash-1"})
		wantErr(t, err, store.ErrConflict)
		_, err = clients.Create(ctx, apikeys.NewEventClient{EventID: ev + 1000, Name: "n", Prefix: "p", Hash: "hash-3"})
		wantErr(t, err, store.ErrReference)
		if _, err := clients.Create(ctx, apikeys.NewEventClient{EventID: ev, Name: "n", Prefix: "p"}); err == nil {
			t.Fatal("empty hash accepted")
		}

		if !must(clients.Revoke(ctx, c.ID))(t) {
			t.Fatal("first Revoke = false")
		}
		if must(clients.Revoke(ctx, c.ID))(t) {
			t.Fatal("second Revoke = true")
		}
		_, err = clients.ByHash(ctx, "hash-1")
		wantErr(t, err, store.ErrNotFound)
		r := must(clients.ByID(ctx, c.ID))(t)
		if r.Hash != nil || r.RevokedAt == nil || !r.Revoked() || r.RevokedAt.Before(r.CreatedAt) {
			t.Fatalf("after Revoke: %+v", r)
		}
		_, err = clients.Revoke(ctx, c.ID+1000)
		wantErr(t, err, store.ErrNotFound)
		_, err = clients.ByID(ctx, c.ID+1000)
		wantErr(t, err, store.ErrNotFound)

		// Revocation frees nothing that could be replayed, and the other key is unaffected.
		must(clients.ByHash(ctx, "hash-2"))(t)
	})
}

func TestEventClientsList(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clients := apikeys.NewEventClients(db)
		if all := must(clients.List(ctx, nil))(t); all == nil || len(all) != 0 {
			t.Fatalf("List of none = %#v, want empty", all)
		}
		ev1, ev2 := createEvent(t, db, "one"), createEvent(t, db, "two")
		a := must(clients.Create(ctx, apikeys.NewEventClient{EventID: ev1, Name: "a", Prefix: "ck_a", Hash: "h-a"}))(t)
		b := must(clients.Create(ctx, apikeys.NewEventClient{EventID: ev2, Name: "b", Prefix: "ck_b", Hash: "h-b", Scopes: []string{"s"}}))(t)
		c := must(clients.Create(ctx, apikeys.NewEventClient{EventID: ev1, Name: "c", Prefix: "ck_c", Hash: "h-c"}))(t)
		must(clients.Revoke(ctx, a.ID))(t)

		ids := func(cs []apikeys.EventClient) []int64 {
			var out []int64
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		all := must(clients.List(ctx, nil))(t)
		if !slices.Equal(ids(all), []int64{a.ID, b.ID, c.ID}) || !all[0].Revoked() || !slices.Equal(all[1].Scopes, []string{"s"}) {
			t.Fatalf("List(all) = %+v", all)
		}
		if got := ids(must(clients.List(ctx, &ev1))(t)); !slices.Equal(got, []int64{a.ID, c.ID}) {
			t.Fatalf("List(event %d) = %v", ev1, got)
		}
		unknown := ev2 + 1000
		if got := must(clients.List(ctx, &unknown))(t); len(got) != 0 {
			t.Fatalf("List(unknown event) = %+v", got)
		}
	})
}

// TestEventClientsTimes: created_at and revoked_at come back as written, to the microsecond, in
// UTC, on both backends, through the store's exported time helpers.
func TestEventClientsTimes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		created := time.Date(2031, 7, 4, 23, 59, 58, 123456789, zone)
		clock := newFakeClock(created)
		db.Now = clock.Now
		clients := apikeys.NewEventClients(db)
		ev := createEvent(t, db, "rt")

		c := must(clients.Create(ctx, apikeys.NewEventClient{EventID: ev, Name: "k", Prefix: "ck_", Hash: "h-rt"}))(t)
		want := created.UTC().Truncate(time.Microsecond)
		if got := must(clients.ByID(ctx, c.ID))(t); c.CreatedAt != want || got.CreatedAt != want || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt = %v, read back %v, want %v", c.CreatedAt, got.CreatedAt, want)
		}
		clock.Add(1500 * time.Nanosecond)
		must(clients.Revoke(ctx, c.ID))(t)
		revoked := created.Add(1500 * time.Nanosecond).UTC().Truncate(time.Microsecond)
		if got := must(clients.ByID(ctx, c.ID))(t); got.RevokedAt == nil || *got.RevokedAt != revoked {
			t.Fatalf("RevokedAt = %v, want %v", got.RevokedAt, revoked)
		}
	})
}
