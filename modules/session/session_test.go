package session_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		access1, refresh1 := env.Login(t, "admin@example.com", "admin-pass-1", "admin")

		r := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh1})
		if r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		pair := r.JSON(t)
		access2, refresh2 := pair["access_token"].(string), pair["refresh_token"].(string)
		if refresh2 == refresh1 || access2 == access1 {
			t.Fatal("refresh did not rotate")
		}
		if ok, _ := env.Verify(t, refresh1); ok {
			t.Fatal("rotated refresh token still verifies")
		}
		if ok, claims := env.Verify(t, refresh2); !ok || claims["type"] != "refresh" {
			t.Fatalf("new refresh token: %v %v", ok, claims)
		}

		// Presenting the spent token again is theft: the whole session goes.
		r = c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh1})
		if r.Status != 401 {
			t.Fatalf("reuse: status %d", r.Status)
		}
		if r := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh2}); r.Status != 401 {
			t.Fatalf("family not revoked: status %d", r.Status)
		}
		if ok, _ := env.Verify(t, access2); ok {
			t.Fatal("access token of a revoked session still verifies")
		}
		if r := c.Do("GET", "/admin/me", nil, testkit.Bearer(access2)...); r.Status != 401 {
			t.Fatalf("revoked access token accepted as bearer: %d", r.Status)
		}
		// Other sessions of the same admin are untouched.
		access3, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		if r := c.Do("GET", "/admin/me", nil, testkit.Bearer(access3)...); r.Status != 200 {
			t.Fatalf("fresh session: %d", r.Status)
		}
	})
}

func TestRefreshRejectsOtherTokens(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		access, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		for _, tok := range []string{access, "garbage", ""} {
			if r := env.Client.Do("POST", "/auth/refresh", map[string]any{"refresh_token": tok}); r.Status != 401 {
				t.Fatalf("%.12q: status %d", tok, r.Status)
			}
		}
	})
}

func TestLogout(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "a@example.com", "admin-pass-1", "admin", nil, 0)
		env.User(t, "b@example.com", "admin-pass-2", "admin", nil, 0)
		accessA, refreshA := env.Login(t, "a@example.com", "admin-pass-1", "admin")
		accessB, refreshB := env.Login(t, "b@example.com", "admin-pass-2", "admin")

		if r := c.Do("POST", "/auth/logout", map[string]any{"refresh_token": refreshA}); r.Status != 401 {
			t.Fatalf("logout without bearer: %d", r.Status)
		}
		if r := c.Do("POST", "/auth/logout", map[string]any{"refresh_token": refreshB}, testkit.Bearer(accessA)...); r.Status != 403 {
			t.Fatalf("logout of another principal's session: %d", r.Status)
		}
		r := c.Do("POST", "/auth/logout", map[string]any{"refresh_token": refreshA}, testkit.Bearer(accessA)...)
		if r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refreshA}); r.Status != 401 {
			t.Fatalf("refresh after logout: %d", r.Status)
		}
		if ok, _ := env.Verify(t, accessA); ok {
			t.Fatal("access token verifies after logout")
		}
		if ok, _ := env.Verify(t, accessB); !ok {
			t.Fatal("the other admin's session was revoked too")
		}
	})
}

func TestVerify(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		access, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")

		if ok, claims := env.Verify(t, access); !ok || claims["iss"] != "cashless-auth" || claims["aud"] != "cashless-platform" || claims["jti"] == "" {
			t.Fatalf("valid token: %v %v", ok, claims)
		}
		offline, _, err := env.Tokens.Issue(tokens.Claims{Subject: "7", Type: tokens.TypeOffline, Role: "device", EventID: testkit.Ptr[int64](3)}, 72*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok, claims := env.Verify(t, offline); !ok || claims["event_id"] != float64(3) {
			t.Fatalf("offline token: %v %v", ok, claims)
		}

		expired, _, _ := env.Tokens.Issue(tokens.Claims{Subject: "7", Type: tokens.TypeOffline}, -time.Hour)
		parts := strings.Split(access, ".")
		sig := []byte(parts[2])
		sig[3] ^= 1
		tampered := parts[0] + "." + parts[1] + "." + string(sig)
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		algNone := noneHeader + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
		wrongType, _, _ := env.Tokens.Issue(tokens.Claims{Subject: "7", Type: "password_reset"}, time.Hour)
		forged := forgeHS256(t, "another-secret-another-secret-0123456789", string(payload))

		for name, tok := range map[string]string{"expired": expired, "tampered": tampered, "alg none": algNone, "wrong type": wrongType, "other key": forged, "garbage": "not-a-token", "empty": ""} {
			if ok, _ := env.Verify(t, tok); ok {
				t.Errorf("%s token verified", name)
			}
		}
		// A refresh token is no bearer credential.
		_, refresh := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		if r := env.Client.Do("GET", "/admin/me", nil, testkit.Bearer(refresh)...); r.Status != 401 {
			t.Fatalf("refresh token as bearer: %d", r.Status)
		}
		if r := env.Client.Do("POST", "/tokens/verify", map[string]any{"token": access, "x": 1}); r.Status != 422 {
			t.Fatalf("unknown field: %d", r.Status)
		}
	})
}

func TestVerifyRateLimit(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"ratelimit.routes.session.verify": "3/minute"}), func(t *testing.T, env *testkit.Env) {
		for i := 0; i < 3; i++ {
			env.Verify(t, "x")
		}
		r := env.Client.Do("POST", "/tokens/verify", map[string]any{"token": "x"})
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("4th verify: %d %q", r.Status, r.Header.Get("Retry-After"))
		}
	})
}

func TestAdminMe(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		ev := env.Event(t, "Stadium")
		env.User(t, "op@example.com", "op-pass-123", "operator", &ev, 0)
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		op, _ := env.Login(t, "op@example.com", "op-pass-123", "operator")

		r := c.Do("GET", "/admin/me", nil, testkit.Bearer(admin)...)
		if r.Status != 200 || r.JSON(t)["email"] != "admin@example.com" || r.JSON(t)["role"] != "admin" {
			t.Fatalf("admin: %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "argon2") || strings.Contains(string(r.Body), "password") {
			t.Fatal("profile leaks the password hash")
		}
		if r := c.Do("GET", "/admin/me", nil, testkit.Bearer(op)...); r.Status != 403 {
			t.Fatalf("operator: %d", r.Status)
		}
		if r := c.Do("GET", "/admin/me", nil); r.Status != 401 || r.Detail(t) != "Not authenticated" {
			t.Fatalf("anonymous: %d", r.Status)
		}
		if r := c.Do("GET", "/admin/me", nil, "Authorization", "Basic YTpi"); r.Status != 401 {
			t.Fatalf("basic auth: %d", r.Status)
		}
	})
}

func TestNotFoundAndMethodNotAllowedAreJSON(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		if r := env.Client.Do("GET", "/nope", nil); r.Status != 404 || r.Detail(t) != "Not Found" {
			t.Fatalf("404: %d %s", r.Status, r.Body)
		}
		if r := env.Client.Do("GET", "/auth/login", nil); r.Status != 405 || r.Detail(t) != "Method Not Allowed" {
			t.Fatalf("405: %d %s", r.Status, r.Body)
		}
	})
}

// TestLogoutReachesReplicasThatCachedTheSession: replica B has the session cached from earlier
// verifications; a logout on replica A must end it on B at once.
func TestLogoutReachesReplicasThatCachedTheSession(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		if b.Name != "postgres" { // several replicas need shared state
			continue
		}
		a := testkit.Start(t, b, opts(nil))
		other := testkit.Start(t, b, opts(map[string]any{"redis.prefix": a.RedisPrefix}))
		a.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		access, refresh := a.Login(t, "admin@example.com", "admin-pass-1", "admin")
		for i := 0; i < 3; i++ {
			if ok, _ := other.Verify(t, access); !ok {
				t.Fatal("access token does not verify on the other replica")
			}
		}
		if r := a.Client.Do("POST", "/auth/logout", map[string]any{"refresh_token": refresh}, testkit.Bearer(access)...); r.Status != 200 {
			t.Fatalf("logout: %d", r.Status)
		}
		if ok, _ := other.Verify(t, access); ok {
			t.Fatal("logged-out session still verifies on the replica that had cached it")
		}
		if r := other.Client.Do("GET", "/admin/me", nil, testkit.Bearer(access)...); r.Status != 401 {
			t.Fatalf("logged-out bearer accepted by the other replica: %d", r.Status)
		}
	}
}
