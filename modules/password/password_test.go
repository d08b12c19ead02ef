package password_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

func TestLogin(t *testing.T) {
	// Many attempts from one address: lift the per-IP limit, which has its own test.
	testkit.ForEachBackend(t, opts(map[string]any{"ratelimit.routes.password.login": "1000/minute"}), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		adminID := env.User(t, "Admin@Example.com", "s3cret-pass", "admin", nil, 0)
		ev := env.Event(t, "Festival")
		env.User(t, "op@example.com", "op-pass-123", "operator", &ev, 1)

		t.Run("success returns a token pair whose access token verifies", func(t *testing.T) {
			r := c.Do("POST", "/auth/login", map[string]any{"email": "admin@example.com", "password": "s3cret-pass"})
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			m := r.JSON(t)
			if m["token_type"] != "bearer" || m["expires_in"].(float64) != 900 {
				t.Fatalf("unexpected body %v", m)
			}
			v := c.Do("POST", "/tokens/verify", map[string]any{"token": m["access_token"]}).JSON(t)
			claims, _ := v["claims"].(map[string]any)
			if v["valid"] != true || claims["sub"] != fmt.Sprint(adminID) || claims["role"] != "admin" || claims["type"] != "access" {
				t.Fatalf("verify: %v", v)
			}
		})
		t.Run("email is case-insensitive", func(t *testing.T) {
			if r := c.Do("POST", "/auth/login", map[string]any{"email": "ADMIN@example.COM", "password": "s3cret-pass"}); r.Status != 200 {
				t.Fatalf("status %d", r.Status)
			}
		})
		t.Run("wrong password, unknown email and role mismatch look the same", func(t *testing.T) {
			var details []string
			for _, body := range []map[string]any{
				{"email": "admin@example.com", "password": "wrong-pass"},
				{"email": "nobody@example.com", "password": "s3cret-pass"},
				{"email": "op@example.com", "password": "op-pass-123"}, // role defaults to admin
				{"email": "admin@example.com", "password": "s3cret-pass", "role": "operator"},
				{"email": "admin@example.com", "password": "s3cret-pass", "role": "consumer"},
			} {
				r := c.Do("POST", "/auth/login", body)
				if r.Status != 401 {
					t.Fatalf("%v: status %d", body, r.Status)
				}
				details = append(details, r.Detail(t))
			}
			for _, d := range details {
				if d != details[0] {
					t.Fatalf("401 messages differ: %q", details)
				}
			}
		})
		t.Run("operator logs in with its role and its event", func(t *testing.T) {
			r := c.Do("POST", "/auth/login", map[string]any{"email": "op@example.com", "password": "op-pass-123", "role": "operator", "event_id": ev})
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			v := c.Do("POST", "/tokens/verify", map[string]any{"token": r.JSON(t)["access_token"]}).JSON(t)
			if v["claims"].(map[string]any)["event_id"] != float64(ev) {
				t.Fatalf("event_id claim: %v", v)
			}
			other := c.Do("POST", "/auth/login", map[string]any{"email": "op@example.com", "password": "op-pass-123", "role": "operator", "event_id": ev + 1000})
			if other.Status != 401 {
				t.Fatalf("another event: status %d", other.Status)
			}
		})
		t.Run("malformed input is a 422 in FastAPI's shape", func(t *testing.T) {
			cases := []struct {
				body any
				typ  string
				loc  string
			}{
				{map[string]any{"email": "a@b.c", "password": "x", "extra": 1}, "extra_forbidden", "body.extra"},
				{map[string]any{"password": "x"}, "missing", "body.email"},
				{map[string]any{"email": "a@b.c", "password": 12}, "string_type", "body.password"},
				{map[string]any{"email": "a@b.c", "password": "x", "event_id": "abc"}, "int_parsing", "body.event_id"},
				{testkit.Raw(`{"email": "a@b.c", `), "json_invalid", "body."},
				{testkit.Raw(`[1,2]`), "model_attributes_type", "body"},
			}
			for _, tc := range cases {
				r := c.Do("POST", "/auth/login", tc.body)
				if r.Status != 422 {
					t.Fatalf("%v: status %d", tc.body, r.Status)
				}
				issues := r.JSON(t)["detail"].([]any)
				first := issues[0].(map[string]any)
				var loc []string
				for _, l := range first["loc"].([]any) {
					if s, ok := l.(string); ok {
						loc = append(loc, s)
					} else {
						loc = append(loc, "")
					}
				}
				if first["type"] != tc.typ || !strings.HasPrefix(strings.Join(loc, "."), tc.loc) {
					t.Fatalf("%v: got %v", tc.body, first)
				}
			}
		})
		t.Run("legacy bcrypt hash logs in and is upgraded to argon2id", func(t *testing.T) {
			legacy, _ := bcrypt.GenerateFromPassword([]byte("legacy-pass"), bcrypt.MinCost)
			users := store.NewUsers(env.DB)
			id, err := users.Create(context.Background(), store.NewUser{Email: "legacy@example.com", PasswordHash: string(legacy), Role: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			if r := c.Do("POST", "/auth/login", map[string]any{"email": "legacy@example.com", "password": "legacy-pass"}); r.Status != 200 {
				t.Fatalf("status %d", r.Status)
			}
			u, _ := users.ByID(context.Background(), id)
			if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
				t.Fatalf("hash not upgraded: %.10s", u.PasswordHash)
			}
			if r := c.Do("POST", "/auth/login", map[string]any{"email": "legacy@example.com", "password": "legacy-pass"}); r.Status != 200 {
				t.Fatalf("after upgrade: status %d", r.Status)
			}
		})
	})
}

func TestLoginRateLimitPerIP(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		// Distinct unknown accounts, so the per-account lock stays out of the way.
		for i := 0; i < 10; i++ {
			if r := c.Do("POST", "/auth/login", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "x"}); r.Status != 401 {
				t.Fatalf("attempt %d: status %d", i+1, r.Status)
			}
		}
		r := c.Do("POST", "/auth/login", map[string]any{"email": "u10@example.com", "password": "x"})
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("11th attempt: status %d, Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
		// The peer (127.0.0.1) is not a trusted proxy: a forged X-Forwarded-For changes nothing.
		r = c.Do("POST", "/auth/login", map[string]any{"email": "u11@example.com", "password": "x"}, "X-Forwarded-For", "203.0.113.9")
		if r.Status != 429 {
			t.Fatalf("forged X-Forwarded-For bypassed the limit: status %d", r.Status)
		}
	})
}

func TestTrustedProxyClientsHaveTheirOwnBuckets(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"ratelimit.trusted_proxies": "127.0.0.1/32", "ratelimit.routes.password.login": "2/minute"}), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		for i := 0; i < 2; i++ {
			c.Do("POST", "/auth/login", map[string]any{"email": "a@example.com", "password": "x"}, "X-Forwarded-For", "198.51.100.1")
		}
		if r := c.Do("POST", "/auth/login", map[string]any{"email": "a@example.com", "password": "x"}, "X-Forwarded-For", "198.51.100.1"); r.Status != 429 {
			t.Fatalf("client 1 third attempt: %d (override 2/minute not applied?)", r.Status)
		}
		if r := c.Do("POST", "/auth/login", map[string]any{"email": "a@example.com", "password": "x"}, "X-Forwarded-For", "198.51.100.2"); r.Status != 401 {
			t.Fatalf("client 2 shares client 1's bucket: %d", r.Status)
		}
	})
}

func TestAccountLockAcrossIPs(t *testing.T) {
	cfg := map[string]any{"ratelimit.trusted_proxies": "127.0.0.1/32", "password.lock_base": "1s", "password.lock_max": "4s"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "victim@example.com", "right-pass-1", "admin", nil, 0)
		for _, email := range []string{"victim@example.com", "ghost@example.com"} {
			for i := 0; i < 10; i++ {
				ip := fmt.Sprintf("198.51.100.%d", i+1)
				if r := c.Do("POST", "/auth/login", map[string]any{"email": email, "password": "guess"}, "X-Forwarded-For", ip); r.Status != 401 {
					t.Fatalf("%s failure %d: status %d", email, i+1, r.Status)
				}
			}
			// Locked now, even with the right password and from a fresh IP; unknown accounts alike.
			r := c.Do("POST", "/auth/login", map[string]any{"email": email, "password": "right-pass-1"}, "X-Forwarded-For", "192.0.2.77")
			if r.Status != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s after 10 failures: status %d Retry-After %q", email, r.Status, r.Header.Get("Retry-After"))
			}
		}
		time.Sleep(1100 * time.Millisecond) // the first lock lasts lock_base
		if r := c.Do("POST", "/auth/login", map[string]any{"email": "victim@example.com", "password": "right-pass-1"}, "X-Forwarded-For", "192.0.2.78"); r.Status != 200 {
			t.Fatalf("after the lock expired: status %d %s", r.Status, r.Body)
		}
		// Success reset the count: one more failure does not lock.
		c.Do("POST", "/auth/login", map[string]any{"email": "victim@example.com", "password": "guess"}, "X-Forwarded-For", "192.0.2.79")
		if r := c.Do("POST", "/auth/login", map[string]any{"email": "victim@example.com", "password": "right-pass-1"}, "X-Forwarded-For", "192.0.2.80"); r.Status != 200 {
			t.Fatalf("after reset: status %d", r.Status)
		}
	})
}

// TestBootstrapAdmin: the first start with bootstrap credentials creates that admin, once.
func TestBootstrapAdmin(t *testing.T) {
	cfg := map[string]any{"bootstrap.admin_email": "root@example.com", "bootstrap.admin_password": "bootstrap-pass-1"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		env.Login(t, "root@example.com", "bootstrap-pass-1", "admin")
		n, err := store.NewUsers(env.DB).CountByRole(context.Background(), "admin")
		if err != nil || n != 1 {
			t.Fatalf("admins: %d %v", n, err)
		}
	})
}
