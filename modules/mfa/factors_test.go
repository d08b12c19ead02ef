package mfa_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/seal"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// rawKey is testkit's secrets.encryption_key: the key v0.1.0 sealed TOTP secrets under.
var rawKey = []byte("0123456789abcdef0123456789abcdef")

// sealers are v0.1.0's raw-key sealer and this release's mfa sealer.
func sealers(t *testing.T) (*seal.Sealer, *core.Sealer) {
	t.Helper()
	raw, err := seal.New(rawKey)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := core.NewKeys(core.Secrets{EncryptionKey: rawKey})
	if err != nil {
		t.Fatal(err)
	}
	return raw, keys.Sealer("mfa")
}

func newSecret(t *testing.T) string {
	t.Helper()
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "x", AccountName: "y"})
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret()
}

// legacyColumns are an admin's users.mfa_* columns, as v0.1.0 reads them.
type legacyColumns struct {
	Enabled bool    `db:"mfa_enabled"`
	Secret  *string `db:"mfa_secret_sealed"`
	Pending *string `db:"mfa_pending_secret_sealed"`
}

func legacy(t *testing.T, env *testkit.Env, id int64) legacyColumns {
	t.Helper()
	var l legacyColumns
	if err := env.DB.X.GetContext(t.Context(), &l, env.DB.X.Rebind(
		`SELECT mfa_enabled, mfa_secret_sealed, mfa_pending_secret_sealed FROM users WHERE id = ?`), id); err != nil {
		t.Fatal(err)
	}
	return l
}

// moduleSecret is the active secret as the module's own table holds it.
func moduleSecret(t *testing.T, env *testkit.Env, id int64) string {
	t.Helper()
	var s string
	if err := env.DB.X.GetContext(t.Context(), &s, env.DB.X.Rebind(
		`SELECT secret_sealed FROM mfa_factors WHERE user_id = ? AND enabled = TRUE`), id); err != nil {
		t.Fatalf("module row: %v", err)
	}
	return s
}

// writeAsV010 sets an admin's MFA the way v0.1.0 does: the users columns alone, under the raw key.
func writeAsV010(t *testing.T, env *testkit.Env, raw *seal.Sealer, id int64, secret string) {
	t.Helper()
	sealed, err := raw.Seal("mfa", secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.X.ExecContext(t.Context(), env.DB.X.Rebind(
		`UPDATE users SET mfa_enabled = TRUE, mfa_secret_sealed = ?, mfa_pending_secret_sealed = NULL WHERE id = ?`), sealed, id); err != nil {
		t.Fatal(err)
	}
}

func mfaEnabled(t *testing.T, env *testkit.Env, access string) any {
	t.Helper()
	return env.Client.Do("GET", "/admin/me", nil, testkit.Bearer(access)...).JSON(t)["mfa_enabled"]
}

// TestLegacyColumns: the users.mfa_* columns and the module's table, across an upgrade from
// v0.1.0 and a rollback to it. A secret v0.1.0 wrote only into the users columns verifies, and
// moves into the module's table under the mfa key; an enrolment by this release is in the users
// columns under the raw key, as v0.1.0 opens them; a secret v0.1.0 replaced after a rollback wins
// over the module's copy of the old one.
func TestLegacyColumns(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		raw, mfa := sealers(t)

		t.Run("written by v0.1.0", func(t *testing.T) {
			id := env.User(t, "old@example.com", adminPass, "admin", nil, 0)
			secret := newSecret(t)
			writeAsV010(t, env, raw, id, secret)
			access, _ := env.Login(t, "old@example.com", adminPass, "admin")
			if got := mfaEnabled(t, env, access); got != true {
				t.Fatalf("mfa_enabled of an admin v0.1.0 enrolled: %v", got)
			}
			if r := verifyCode(env, access, code(t, secret, time.Now())); r.Status != 200 {
				t.Fatalf("verify a secret v0.1.0 sealed: %d %s", r.Status, r.Body)
			}
			sealed := moduleSecret(t, env, id)
			if _, err := raw.Open("mfa", sealed); err == nil {
				t.Fatal("the module's copy is still under the raw key")
			}
			if got, err := mfa.Open(sealed); err != nil || got != secret {
				t.Fatalf("the module's copy: %v", err)
			}
		})

		t.Run("written by this release", func(t *testing.T) {
			id := env.User(t, "new@example.com", adminPass, "admin", nil, 0)
			access, _ := env.Login(t, "new@example.com", adminPass, "admin")
			secret := setup(t, env, access)
			l := legacy(t, env, id)
			if l.Enabled || l.Secret != nil || l.Pending == nil {
				t.Fatalf("users columns after setup: %+v", l)
			}
			if got, err := raw.Open("mfa", *l.Pending); err != nil || got != secret {
				t.Fatalf("pending secret as v0.1.0 opens it: %v", err)
			}
			r := verifyCode(env, access, code(t, secret, time.Now()))
			if r.Status != 200 {
				t.Fatalf("verify: %d %s", r.Status, r.Body)
			}
			if l = legacy(t, env, id); !l.Enabled || l.Pending != nil || l.Secret == nil {
				t.Fatalf("users columns after verify: %+v", l)
			}
			if got, err := raw.Open("mfa", *l.Secret); err != nil || got != secret {
				t.Fatalf("active secret as v0.1.0 opens it: %v", err)
			}
			sealed := moduleSecret(t, env, id)
			if _, err := raw.Open("mfa", sealed); err == nil {
				t.Fatal("the module's row is sealed under the raw key")
			}
			if got := mfaEnabled(t, env, r.JSON(t)["access_token"].(string)); got != true {
				t.Fatalf("mfa_enabled after verify: %v", got)
			}

			// Rolled back, v0.1.0 replaces the secret; upgraded again, the module's row is stale.
			replaced := newSecret(t)
			writeAsV010(t, env, raw, id, replaced)
			next := time.Now().Add(30 * time.Second) // this step's marker is taken; skew allows the next
			if r := verifyCode(env, access, code(t, secret, next)); r.Status != 401 {
				t.Fatalf("the secret v0.1.0 replaced still verifies: %d %s", r.Status, r.Body)
			}
			if r := verifyCode(env, access, code(t, replaced, next)); r.Status != 200 {
				t.Fatalf("the secret v0.1.0 set: %d %s", r.Status, r.Body)
			}
			if got, err := mfa.Open(moduleSecret(t, env, id)); err != nil || got != replaced {
				t.Fatalf("the module's row after the secret v0.1.0 set: %v", err)
			}
		})
	})
}
