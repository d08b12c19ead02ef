package store_test

import (
	"slices"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

func TestEventClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clients := store.NewEventClients(db)
		ev := createEvent(t, db, "e")

		c := must(clients.Create(ctx, store.NewEventClient{
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

		empty := must(clients.Create(ctx, store.NewEventClient{EventID: ev, Name: "no scopes", Prefix: "cak_x", Hash: "hash-2"}))(t)
		if empty.Scopes == nil || len(empty.Scopes) != 0 {
			t.Fatalf("nil scopes read back as %#v", empty.Scopes)
		}

		_, err = clients.Create(ctx, store.NewEventClient{EventID: ev, Name: "dup", Prefix: "p", Hash: "hash-1"})
		wantErr(t, err, store.ErrConflict)
		_, err = clients.Create(ctx, store.NewEventClient{EventID: ev + 1000, Name: "n", Prefix: "p", Hash: "hash-3"})
		wantErr(t, err, store.ErrReference)
		if _, err := clients.Create(ctx, store.NewEventClient{EventID: ev, Name: "n", Prefix: "p"}); err == nil {
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
