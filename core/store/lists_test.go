package store_test

import (
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

// TestUsersDisableEnable: a disabled account carries both marks (disabled_at and a hash no
// verifier accepts), keeps them whatever writes its hash, and gets back the hash it had.
func TestUsersDisableEnable(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		id := must(users.Create(ctx, store.NewUser{Email: "a@x.io", PasswordHash: "$argon2id$h1", Role: store.RoleAdmin}))(t)
		if u := must(users.ByID(ctx, id))(t); u.Disabled() || u.DisabledAt != nil {
			t.Fatalf("new user disabled: %+v", u)
		}

		noErr(t, users.Disable(ctx, id))
		u := must(users.ByID(ctx, id))(t)
		if !u.Disabled() || u.DisabledAt == nil || u.PasswordHash != "!$argon2id$h1" {
			t.Fatalf("after Disable: %v %q", u.DisabledAt, u.PasswordHash)
		}
		first := *u.DisabledAt
		noErr(t, users.Disable(ctx, id)) // twice: one mark, the first time kept
		if u := must(users.ByID(ctx, id))(t); u.PasswordHash != "!$argon2id$h1" || !u.DisabledAt.Equal(first) {
			t.Fatalf("after a second Disable: %v %q", u.DisabledAt, u.PasswordHash)
		}

		// A new hash (a reset, a rehash, or v0.1.0 after a rollback writing the column alone)
		// stays marked while the account is disabled.
		noErr(t, users.UpdatePasswordHash(ctx, id, "$argon2id$h2"))
		if u := must(users.ByID(ctx, id))(t); u.PasswordHash != "!$argon2id$h2" {
			t.Fatalf("hash written to a disabled user: %q", u.PasswordHash)
		}
		_, err := db.X.ExecContext(ctx, db.X.Rebind(`UPDATE users SET password_hash = ? WHERE id = ?`), "$argon2id$h3", id)
		noErr(t, err)
		if u := must(users.ByID(ctx, id))(t); u.PasswordHash != "!$argon2id$h3" {
			t.Fatalf("hash written by a release that knows no disabled_at: %q", u.PasswordHash)
		}

		noErr(t, users.Enable(ctx, id))
		if u := must(users.ByID(ctx, id))(t); u.Disabled() || u.PasswordHash != "$argon2id$h3" {
			t.Fatalf("after Enable: %v %q", u.DisabledAt, u.PasswordHash)
		}
		noErr(t, users.Enable(ctx, id))
		noErr(t, users.UpdatePasswordHash(ctx, id, "$argon2id$h4"))
		if u := must(users.ByID(ctx, id))(t); u.PasswordHash != "$argon2id$h4" {
			t.Fatalf("hash of an enabled user: %q", u.PasswordHash)
		}
		wantErr(t, users.Disable(ctx, id+1000), store.ErrNotFound)
		wantErr(t, users.Enable(ctx, id+1000), store.ErrNotFound)
	})
}

func TestUsersListAndSetEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		users := store.NewUsers(db)
		ev := createEvent(t, db, "e")
		admin := createUser(t, db, "admin@x.io", store.RoleAdmin)
		op := createUser(t, db, "op@x.io", store.RoleOperator)
		nm := createUser(t, db, "nm@x.io", store.RoleNetworkManager)
		noErr(t, users.SetEvent(ctx, op, &ev))
		noErr(t, users.Disable(ctx, nm))

		ids := func(f store.UserFilter) string {
			t.Helper()
			var b strings.Builder
			for _, u := range must(users.List(ctx, f))(t) {
				b.WriteString(u.Email + " ")
			}
			return b.String()
		}
		for _, c := range []struct {
			f    store.UserFilter
			want string
		}{
			{store.UserFilter{}, "admin@x.io op@x.io nm@x.io "},
			{store.UserFilter{Role: ptr(store.RoleOperator)}, "op@x.io "},
			{store.UserFilter{EventID: &ev}, "op@x.io "},
			{store.UserFilter{Disabled: ptr(true)}, "nm@x.io "},
			{store.UserFilter{Disabled: ptr(false)}, "admin@x.io op@x.io "},
			{store.UserFilter{Role: ptr(store.RoleAdmin), Disabled: ptr(true)}, ""},
		} {
			if got := ids(c.f); got != c.want {
				t.Errorf("List(%+v) = %q, want %q", c.f, got, c.want)
			}
		}

		noErr(t, users.SetEvent(ctx, op, nil))
		if u := must(users.ByID(ctx, op))(t); u.EventID != nil {
			t.Fatalf("after unbinding: %v", *u.EventID)
		}
		missing := ev + 1000
		wantErr(t, users.SetEvent(ctx, op, &missing), store.ErrReference)
		wantErr(t, users.SetEvent(ctx, admin+1000, &ev), store.ErrNotFound)
	})
}

func TestEventsAndDevicesList(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if got := must(store.NewEvents(db).List(ctx))(t); len(got) != 0 {
			t.Fatalf("events of an empty database: %+v", got)
		}
		ev1, ev2 := createEvent(t, db, "one"), createEvent(t, db, "two")
		evs := must(store.NewEvents(db).List(ctx))(t)
		if len(evs) != 2 || evs[0].ID != ev1 || evs[0].Name != "one" || evs[1].ID != ev2 || evs[1].CreatedAt.IsZero() {
			t.Fatalf("events: %+v", evs)
		}

		devices := store.NewDevices(db)
		a := must(devices.Create(ctx, store.NewDevice{EventID: ev1, MAC: "02:00:00:00:00:01"}))(t)
		b := must(devices.Create(ctx, store.NewDevice{EventID: ev2, MAC: "02:00:00:00:00:02"}))(t)
		c := must(devices.Create(ctx, store.NewDevice{EventID: ev1, MAC: "02:00:00:00:00:03"}))(t)
		noErr(t, devices.Archive(ctx, c))
		all := must(devices.List(ctx, nil))(t)
		if len(all) != 3 || all[0].ID != a || all[1].ID != b || all[2].ID != c || !all[2].Archived {
			t.Fatalf("every device: %+v", all)
		}
		of1 := must(devices.List(ctx, &ev1))(t)
		if len(of1) != 2 || of1[0].ID != a || of1[1].ID != c {
			t.Fatalf("devices of event %d: %+v", ev1, of1)
		}
	})
}
