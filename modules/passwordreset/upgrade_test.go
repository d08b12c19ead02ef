package passwordreset_test

import (
	"context"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules/passwordreset"
)

// TestUpgradeFromCoreOwnedTable: a database the previous release left (core's migrations only,
// password_resets created by core's 00001 and holding a pending token) gets the module's first
// migration as a no-op, and the token mailed before the upgrade still resets the password, once.
func TestUpgradeFromCoreOwnedTable(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			old, err := store.Open(ctx, b.URL, b.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			if err := old.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			admin, err := store.NewUsers(old).Create(ctx, store.NewUser{Email: "admin@example.com", PasswordHash: "$argon2id$forgotten", Role: store.RoleAdmin})
			if err != nil {
				t.Fatal(err)
			}
			// As the previous release wrote it, through core's repository of then.
			tok := randomToken()
			now := time.Now()
			if _, err := old.X.ExecContext(ctx, old.X.Rebind(
				`INSERT INTO password_resets (user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?)`),
				admin, hashOf(tok), store.StoredTime(now.Add(30*time.Minute)), store.StoredTime(now)); err != nil {
				t.Fatal(err)
			}
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			env := testkit.Start(t, b, opts())
			var version int64
			if err := env.DB.X.GetContext(ctx, &version, `SELECT max(version_id) FROM goose_`+passwordreset.Plugin.Name+`_version`); err != nil || version != 1 {
				t.Fatalf("module migrations: version %d, %v", version, err)
			}
			// The quota counts the token created before the upgrade.
			if n, err := passwordreset.NewResets(env.DB).CountSince(ctx, admin, now.Add(-time.Minute)); err != nil || n != 1 {
				t.Fatalf("tokens after the upgrade: %d %v", n, err)
			}
			if r := confirm(env, tok, "brand-new-pass"); r.Status != 200 {
				t.Fatalf("the token mailed before the upgrade: %d %s", r.Status, r.Body)
			}
			env.Login(t, "admin@example.com", "brand-new-pass", "admin")
			if r := confirm(env, tok, "brand-new-pass-2"); r.Status != 410 {
				t.Fatalf("the token used again: %d %s", r.Status, r.Body)
			}
		})
	}
}
