package mfa

import (
	"testing"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/seal"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
)

// TestMigrationCopies: the module's migration copies the users.mfa_* rows v0.1.0 wrote, sealed as
// they were, and the repository reads the copies as in step and opens them (raw-key fallback).
func TestMigrationCopies(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := storetest.Open(t, b)
			rawKey := []byte("0123456789abcdef0123456789abcdef")
			raw, _ := seal.New(rawKey)
			users := store.NewUsers(db)
			create := func(email string) int64 {
				id, err := users.Create(ctx, store.NewUser{Email: email, PasswordHash: "h", Role: store.RoleAdmin})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			active, pending, none := create("a@x.io"), create("p@x.io"), create("n@x.io")
			activeSealed, _ := raw.Seal(sealPurpose, "ACTIVESECRET")
			pendingSealed, _ := raw.Seal(sealPurpose, "PENDINGSECRET")
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`UPDATE users SET mfa_enabled = TRUE, mfa_secret_sealed = ? WHERE id = ?`, []any{activeSealed, active}},
				{`UPDATE users SET mfa_pending_secret_sealed = ? WHERE id = ?`, []any{pendingSealed, pending}},
			} {
				if _, err := db.X.ExecContext(ctx, db.X.Rebind(q.sql), q.args...); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.MigrateSet(ctx, store.MigrationSet{Owner: "mfa", FS: migrations}); err != nil {
				t.Fatal(err)
			}
			var rows int
			if err := db.X.GetContext(ctx, &rows, `SELECT count(*) FROM mfa_factors`); err != nil || rows != 2 {
				t.Fatalf("copied rows: %d %v, want the two admins with a secret", rows, err)
			}
			keys, _ := core.NewKeys(core.Secrets{EncryptionKey: rawKey})
			f := NewFactors(db, keys)
			for _, c := range []struct {
				id   int64
				want Factor
			}{
				{active, Factor{Enabled: true, Secret: "ACTIVESECRET"}},
				{pending, Factor{Pending: "PENDINGSECRET"}},
				{none, Factor{}},
			} {
				r, err := f.read(ctx, c.id)
				if err != nil || !r.inStep() {
					t.Fatalf("user %d: copy not in step: %+v %v", c.id, r, err)
				}
				got, err := f.Load(ctx, c.id)
				if err != nil || got.Enabled != c.want.Enabled || got.Secret != c.want.Secret || got.Pending != c.want.Pending {
					t.Fatalf("user %d: %+v %v, want %+v", c.id, got, err, c.want)
				}
			}
			if _, err := f.Load(ctx, none+100); err == nil {
				t.Fatal("an unknown user loaded")
			}
		})
	}
}
