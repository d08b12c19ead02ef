package store_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

func TestUsersCreateAndLookup(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		ev := createEvent(t, db, "e")

		id := must(users.Create(ctx, store.NewUser{
			Email: "  Alice.Admin@Example.COM ", PasswordHash: "hash1", Role: store.RoleOperator,
			EventID: &ev, Mode: 4,
		}))(t)
		u := must(users.ByID(ctx, id))(t)
		if u.Email != "alice.admin@example.com" || u.PasswordHash != "hash1" || u.Role != store.RoleOperator ||
			u.EventID == nil || *u.EventID != ev || u.Mode != 4 ||
			u.SessionTokenHash != nil || u.SessionTokenSealed != nil || u.LastDevMAC != nil ||
			u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Fatalf("ByID = %+v", u)
		}

		for _, email := range []string{"alice.admin@example.com", "ALICE.ADMIN@EXAMPLE.COM", " Alice.Admin@example.com\t"} {
			got := must(users.ByEmail(ctx, email))(t)
			if got.ID != id {
				t.Fatalf("ByEmail(%q) = %d, want %d", email, got.ID, id)
			}
		}
		_, err := users.ByEmail(ctx, "bob@example.com")
		wantErr(t, err, store.ErrNotFound)
		_, err = users.ByID(ctx, id+1000)
		wantErr(t, err, store.ErrNotFound)

		_, err = users.Create(ctx, store.NewUser{Email: "ALICE.admin@example.com", PasswordHash: "x", Role: store.RoleAdmin})
		wantErr(t, err, store.ErrConflict)
		// Non-ASCII letters fold too (SQLite's own lower() would not).
		must(users.Create(ctx, store.NewUser{Email: "ÉLODIE@example.com", PasswordHash: "x", Role: store.RoleAdmin}))(t)
		_, err = users.Create(ctx, store.NewUser{Email: "élodie@EXAMPLE.com", PasswordHash: "x", Role: store.RoleAdmin})
		wantErr(t, err, store.ErrConflict)
		if got := must(users.ByEmail(ctx, "Élodie@example.com"))(t); got.Email != "élodie@example.com" {
			t.Fatalf("ByEmail non-ASCII = %q", got.Email)
		}

		missing := int64(999999)
		_, err = users.Create(ctx, store.NewUser{Email: "x@example.com", PasswordHash: "x", Role: store.RoleOperator, EventID: &missing})
		wantErr(t, err, store.ErrReference)
		if _, err := users.Create(ctx, store.NewUser{Email: "y@example.com", PasswordHash: "x", Role: "root"}); err == nil {
			t.Fatal("unknown role accepted")
		}
		if _, err := users.Create(ctx, store.NewUser{Email: "  ", PasswordHash: "x", Role: store.RoleAdmin}); err == nil {
			t.Fatal("empty e-mail accepted")
		}
	})
}

func TestUsersCountAndPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		db.Now = clock.Now
		users := store.NewUsers(db)
		if n := must(users.CountByRole(ctx, store.RoleAdmin))(t); n != 0 {
			t.Fatalf("CountByRole on empty db = %d", n)
		}
		a := createUser(t, db, "a@x.io", store.RoleAdmin)
		createUser(t, db, "b@x.io", store.RoleAdmin)
		createUser(t, db, "c@x.io", store.RoleNetworkManager)
		for role, want := range map[string]int{store.RoleAdmin: 2, store.RoleNetworkManager: 1, store.RoleOperator: 0} {
			if n := must(users.CountByRole(ctx, role))(t); n != want {
				t.Errorf("CountByRole(%s) = %d, want %d", role, n, want)
			}
		}

		clock.Add(time.Hour)
		noErr(t, users.UpdatePasswordHash(ctx, a, "new-hash"))
		u := must(users.ByID(ctx, a))(t)
		if u.PasswordHash != "new-hash" || !u.UpdatedAt.Equal(clock.Now()) || u.CreatedAt.Equal(u.UpdatedAt) {
			t.Fatalf("after UpdatePasswordHash: %+v", u)
		}
		wantErr(t, users.UpdatePasswordHash(ctx, a+1000, "h"), store.ErrNotFound)
	})
}

func TestUsersSessionToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		op := createUser(t, db, "op@x.io", store.RoleOperator)
		other := createUser(t, db, "op2@x.io", store.RoleOperator)

		_, err := users.BySessionTokenHash(ctx, "h1")
		wantErr(t, err, store.ErrNotFound)

		if !must(users.SetSessionTokenIfEmpty(ctx, op, "h1", "sealed1"))(t) {
			t.Fatal("SetSessionTokenIfEmpty on empty = false")
		}
		if must(users.SetSessionTokenIfEmpty(ctx, op, "h2", "sealed2"))(t) {
			t.Fatal("SetSessionTokenIfEmpty overwrote an existing token")
		}
		u := must(users.BySessionTokenHash(ctx, "h1"))(t)
		if u.ID != op || *u.SessionTokenSealed != "sealed1" {
			t.Fatalf("BySessionTokenHash = %+v", u)
		}
		_, err = users.SetSessionTokenIfEmpty(ctx, op+1000, "h3", "s")
		wantErr(t, err, store.ErrNotFound)

		// Token hashes are unique across users.
		wantErr(t, users.SetSessionToken(ctx, other, "h1", "x"), store.ErrConflict)

		noErr(t, users.SetSessionToken(ctx, op, "h4", "sealed4"))
		_, err = users.BySessionTokenHash(ctx, "h1")
		wantErr(t, err, store.ErrNotFound)
		if u := must(users.BySessionTokenHash(ctx, "h4"))(t); u.ID != op || *u.SessionTokenSealed != "sealed4" {
			t.Fatalf("after SetSessionToken: %+v", u)
		}

		noErr(t, users.ClearSessionToken(ctx, op))
		u = must(users.ByID(ctx, op))(t)
		if u.SessionTokenHash != nil || u.SessionTokenSealed != nil {
			t.Fatalf("after ClearSessionToken: %+v", u)
		}
		_, err = users.BySessionTokenHash(ctx, "h4")
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, users.ClearSessionToken(ctx, op+1000), store.ErrNotFound)
		wantErr(t, users.SetSessionToken(ctx, op+1000, "h5", "s"), store.ErrNotFound)
	})
}

func TestUsersSetSessionTokenIfEmptyRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		op := createUser(t, db, "racer@x.io", store.RoleOperator)

		const n = 20
		var wins atomic.Int32
		winner := make([]bool, n)
		errs := make([]error, n)
		race(n, func(i int) {
			ok, err := users.SetSessionTokenIfEmpty(ctx, op, "hash-"+string(rune('a'+i)), "sealed-"+string(rune('a'+i)))
			errs[i], winner[i] = err, ok
			if ok {
				wins.Add(1)
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: %v", i, err)
			}
		}
		if wins.Load() != 1 {
			t.Fatalf("%d goroutines set a token, want exactly 1", wins.Load())
		}
		u := must(users.ByID(ctx, op))(t)
		for i, won := range winner {
			if won && *u.SessionTokenHash != "hash-"+string(rune('a'+i)) {
				t.Fatalf("stored token %q is not the winner's", *u.SessionTokenHash)
			}
		}
	})
}

func TestUsersDevMAC(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		id := createUser(t, db, "mac@x.io", store.RoleAdmin)

		noErr(t, users.SetLastDevMAC(ctx, id, "aa:bb:cc:dd:ee:ff"))
		if u := must(users.ByID(ctx, id))(t); u.LastDevMAC == nil || *u.LastDevMAC != "aa:bb:cc:dd:ee:ff" {
			t.Fatalf("LastDevMAC = %v", u.LastDevMAC)
		}
		wantErr(t, users.SetLastDevMAC(ctx, id+1000, "x"), store.ErrNotFound)
	})
}

func TestUsersDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		ev := createEvent(t, db, "e")
		op := createUser(t, db, "gone@x.io", store.RoleOperator)
		keep := createUser(t, db, "keep@x.io", store.RoleOperator)
		dev := must(store.NewDevices(db).Create(ctx, store.NewDevice{EventID: ev, MAC: "m1", Name: "pos", OperatorID: &op}))(t)

		noErr(t, users.Delete(ctx, op))
		_, err := users.ByID(ctx, op)
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, users.Delete(ctx, op), store.ErrNotFound)

		if d := must(store.NewDevices(db).ByID(ctx, dev))(t); d.OperatorID != nil {
			t.Fatalf("device still bound to deleted operator: %+v", d)
		}

		// Ids are not reused, so tokens naming the deleted user cannot start to name someone else.
		next := createUser(t, db, "next@x.io", store.RoleOperator)
		if next == op || next < keep {
			t.Fatalf("new user id %d after deleting %d", next, op)
		}
		noErr(t, users.Delete(ctx, next))
		if again := createUser(t, db, "again@x.io", store.RoleOperator); again == next {
			t.Fatalf("id %d of the most recently deleted user was reused", next)
		}
	})
}
