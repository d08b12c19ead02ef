package apikeys_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules/apikeys"
)

// TestUpgradeFromCoreOwnedTable: a database the previous release left (core's migrations only,
// event_clients created by core's 00001 and holding a key) gets the module's first migration as
// a no-op, and the key issued before still verifies and can still be revoked.
func TestUpgradeFromCoreOwnedTable(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			key := "ck_" + strings.Repeat("Ab1-", 10) + "xyz"
			sum := sha256.Sum256([]byte(key))
			old, err := store.Open(ctx, b.URL, b.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			if err := old.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ev, err := store.NewEvents(old).Create(ctx, "Festival")
			if err != nil {
				t.Fatal(err)
			}
			// As the previous release wrote it, through core's repository of then.
			var id int64
			if err := old.X.QueryRowContext(ctx, old.X.Rebind(
				`INSERT INTO event_clients (event_id, name, key_prefix, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
				ev, "gate scanner", key[:11], hex.EncodeToString(sum[:]), `["tickets:read"]`, store.StoredTime(time.Now())).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			env := testkit.Start(t, b, opts(nil))
			var version int64
			if err := env.DB.X.GetContext(ctx, &version, `SELECT max(version_id) FROM goose_`+apikeys.Plugin.Name+`_version`); err != nil || version != 1 {
				t.Fatalf("module migrations: version %d, %v", version, err)
			}
			ok, claims := env.Verify(t, key)
			if !ok || claims["sub"] != "api_key:"+strconv.FormatInt(id, 10) || claims["event_id"] != float64(ev) || claims["name"] != "gate scanner" {
				t.Fatalf("the key issued before the upgrade: ok %v, claims %v", ok, claims)
			}
			c, err := apikeys.NewEventClients(env.DB).ByID(ctx, id)
			if err != nil || c.Revoked() || len(c.Scopes) != 1 || c.Scopes[0] != "tickets:read" {
				t.Fatalf("the row after the upgrade: %+v %v", c, err)
			}

			env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
			admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
			if r := env.Client.Do("DELETE", "/tokens/api-key/"+strconv.FormatInt(id, 10), nil, testkit.Bearer(admin)...); r.Status != 200 {
				t.Fatalf("revoke the old key: %d %s", r.Status, r.Body)
			}
			if ok, _ := env.Verify(t, key); ok {
				t.Fatal("the old key verifies after its revocation")
			}
		})
	}
}
