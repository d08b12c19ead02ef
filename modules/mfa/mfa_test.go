package mfa_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

const adminEmail, adminPass = "admin@example.com", "admin-pass-1"

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func setup(t *testing.T, env *testkit.Env, access string) string {
	t.Helper()
	r := env.Client.Do("POST", "/admin/mfa/setup", nil, testkit.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("setup: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["secret"].(string)
}

func verifyCode(env *testkit.Env, access, c string) *testkit.Response {
	return env.Client.Do("POST", "/admin/mfa/verify", map[string]any{"code": c}, testkit.Bearer(access)...)
}

func claims(t *testing.T, env *testkit.Env, token string) map[string]any {
	t.Helper()
	m := env.Client.Do("POST", "/tokens/verify", map[string]any{"token": token}).JSON(t)
	if m["valid"] != true {
		t.Fatalf("token does not verify: %v", m)
	}
	return m["claims"].(map[string]any)
}

func TestMFAFlow(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.mfa.issuer": "Cashless Test"}), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, adminEmail, adminPass, "admin", nil, 0)
		access, _ := env.Login(t, adminEmail, adminPass, "admin")

		if r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(access)...); r.Status != 403 || !strings.Contains(r.Detail(t), "MFA") {
			t.Fatalf("ping without MFA: %d %s", r.Status, r.Body)
		}

		r := c.Do("POST", "/admin/mfa/setup", nil, testkit.Bearer(access)...)
		if r.Status != 200 {
			t.Fatalf("setup: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		secret := body["secret"].(string)
		u, err := url.Parse(body["qr_uri"].(string))
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
			t.Fatalf("qr_uri: %v %v", body["qr_uri"], err)
		}
		q := u.Query()
		if q.Get("secret") != secret || q.Get("issuer") != "Cashless Test" || u.Path != "/Cashless Test:"+adminEmail || q.Get("digits") != "6" || q.Get("period") != "30" {
			t.Fatalf("qr_uri: %s", u)
		}
		if me := c.Do("GET", "/admin/me", nil, testkit.Bearer(access)...).JSON(t); me["mfa_enabled"] != false {
			t.Fatalf("MFA enabled before verification: %v", me)
		}

		wrong := "000000"
		if code(t, secret, time.Now()) == wrong {
			wrong = "111111"
		}
		if r := verifyCode(env, access, wrong); r.Status != 401 {
			t.Fatalf("wrong code: %d %s", r.Status, r.Body)
		}
		if r := verifyCode(env, access, "12a45"); r.Status != 422 {
			t.Fatalf("5 characters: %d", r.Status)
		}

		before := time.Now().Unix()
		now := code(t, secret, time.Now())
		r = verifyCode(env, access, now)
		if r.Status != 200 {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
		pair := r.JSON(t)
		fresh, refresh := pair["access_token"].(string), pair["refresh_token"].(string)
		at, _ := claims(t, env, fresh)["mfa_verified_at"].(float64)
		if int64(at) < before-1 || int64(at) > time.Now().Unix()+1 {
			t.Fatalf("mfa_verified_at %v not now", at)
		}
		if me := c.Do("GET", "/admin/me", nil, testkit.Bearer(fresh)...).JSON(t); me["mfa_enabled"] != true {
			t.Fatalf("MFA not enabled: %v", me)
		}
		if r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(fresh)...); r.Status != 200 || r.JSON(t)["status"] != "ok" {
			t.Fatalf("ping with fresh MFA: %d %s", r.Status, r.Body)
		}

		// The same code again, from the same or another session: refused.
		if r := verifyCode(env, access, now); r.Status != 401 {
			t.Fatalf("replayed code: %d %s", r.Status, r.Body)
		}
		if r := verifyCode(env, fresh, now); r.Status != 401 {
			t.Fatalf("replayed code from the new session: %d", r.Status)
		}

		// Refresh keeps the verification time: freshness survives, never extends.
		r = c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh})
		if r.Status != 200 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		refreshed := r.JSON(t)["access_token"].(string)
		if got := claims(t, env, refreshed)["mfa_verified_at"]; got != at {
			t.Fatalf("refreshed mfa_verified_at %v, want %v", got, at)
		}
		if r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(refreshed)...); r.Status != 200 {
			t.Fatalf("ping with refreshed token: %d", r.Status)
		}

		// Active MFA: the next step's code (within the ±1 step window) verifies against the active secret.
		if r := verifyCode(env, access, code(t, secret, time.Now().Add(30*time.Second))); r.Status != 200 {
			t.Fatalf("second verification with the active secret: %d %s", r.Status, r.Body)
		}
		// A code two steps away is outside the window.
		if r := verifyCode(env, access, code(t, secret, time.Now().Add(-90*time.Second))); r.Status != 401 {
			t.Fatalf("code from 3 steps ago: %d", r.Status)
		}
	})
}

func TestStaleMFA(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		id := env.User(t, adminEmail, adminPass, "admin", nil, 0)
		env.User(t, "op@example.com", "op-pass-123", "operator", nil, 0)
		// A session like the one a verification 9 hours ago would have opened (freshness is 8h).
		sess := sessions.New(env.Tokens, env.State, sessions.Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour}, nil)
		old := time.Now().Add(-9 * time.Hour).Unix()
		pair, err := sess.Start(context.Background(), sessions.Principal{Subject: itoa(id), Role: "admin", MFAVerifiedAt: &old})
		if err != nil {
			t.Fatal(err)
		}
		r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(pair.AccessToken)...)
		if r.Status != 403 || !strings.Contains(r.Detail(t), "MFA") {
			t.Fatalf("stale MFA: %d %s", r.Status, r.Body)
		}
		// Refreshing does not make it fresh.
		r = c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": pair.RefreshToken})
		if r.Status != 200 {
			t.Fatalf("refresh: %d", r.Status)
		}
		if r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(r.JSON(t)["access_token"].(string))...); r.Status != 403 {
			t.Fatalf("refreshed stale token: %d", r.Status)
		}
		// Within the window it passes.
		recent := time.Now().Add(-7 * time.Hour).Unix()
		pair, _ = sess.Start(context.Background(), sessions.Principal{Subject: itoa(id), Role: "admin", MFAVerifiedAt: &recent})
		if r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(pair.AccessToken)...); r.Status != 200 {
			t.Fatalf("7h-old verification: %d", r.Status)
		}

		// Not an admin, or no token at all.
		op, _ := env.Login(t, "op@example.com", "op-pass-123", "operator")
		for _, path := range []string{"/admin/mfa/setup", "/admin/mfa/verify"} {
			if r := c.Do("POST", path, map[string]any{"code": "123456"}, testkit.Bearer(op)...); r.Status != 403 {
				t.Fatalf("%s as operator: %d", path, r.Status)
			}
			if r := c.Do("POST", path, map[string]any{"code": "123456"}); r.Status != 401 {
				t.Fatalf("%s anonymous: %d", path, r.Status)
			}
		}
		if r := c.Do("GET", "/admin/sensitive/ping", nil, testkit.Bearer(op)...); r.Status != 403 {
			t.Fatalf("ping as operator: %d", r.Status)
		}
		if r := c.Do("GET", "/admin/sensitive/ping", nil); r.Status != 401 {
			t.Fatalf("ping anonymous: %d", r.Status)
		}
	})
}

func TestSetupRules(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		env.User(t, adminEmail, adminPass, "admin", nil, 0)
		access, _ := env.Login(t, adminEmail, adminPass, "admin")

		if r := verifyCode(env, access, "123456"); r.Status != 403 {
			t.Fatalf("verify before any setup: %d %s", r.Status, r.Body)
		}
		// A new setup supersedes the pending secret.
		first := setup(t, env, access)
		second := setup(t, env, access)
		if first == second {
			t.Fatal("setup returned the same secret twice")
		}
		if r := verifyCode(env, access, code(t, first, time.Now())); r.Status != 401 {
			t.Fatalf("superseded secret: %d", r.Status)
		}
		r := verifyCode(env, access, code(t, second, time.Now()))
		if r.Status != 200 {
			t.Fatalf("current secret: %d %s", r.Status, r.Body)
		}
		fresh := r.JSON(t)["access_token"].(string)

		// Once MFA is active, replacing the secret needs a fresh verification: a password-only
		// token must not be able to enrol another authenticator.
		if r := env.Client.Do("POST", "/admin/mfa/setup", nil, testkit.Bearer(access)...); r.Status != 403 {
			t.Fatalf("re-setup without fresh MFA: %d", r.Status)
		}
		third := setup(t, env, fresh)
		// Until the new secret is verified, the pending one is what verify checks.
		if r := verifyCode(env, fresh, code(t, second, time.Now().Add(30*time.Second))); r.Status != 401 {
			t.Fatalf("old secret while a new one is pending: %d", r.Status)
		}
		if r := verifyCode(env, fresh, code(t, third, time.Now().Add(30*time.Second))); r.Status != 200 {
			t.Fatalf("new secret: %d %s", r.Status, r.Body)
		}
	})
}

func TestVerifyLockout(t *testing.T) {
	cfg := map[string]any{"ratelimit.routes.mfa.verify": "1000/minute", "ratelimit.trusted_proxies": "127.0.0.1/32"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		env.User(t, adminEmail, adminPass, "admin", nil, 0)
		env.User(t, "other@example.com", "other-pass-1", "admin", nil, 0)
		access, _ := env.Login(t, adminEmail, adminPass, "admin")
		other, _ := env.Login(t, "other@example.com", "other-pass-1", "admin")
		secret := setup(t, env, access)
		otherSecret := setup(t, env, other)
		good := code(t, secret, time.Now())
		bad := "000000"
		if good == bad {
			bad = "111111"
		}
		// Ten failures from ten addresses: the lock is per admin, not per IP.
		for i := 0; i < 10; i++ {
			r := env.Client.Do("POST", "/admin/mfa/verify", map[string]any{"code": bad}, append(testkit.Bearer(access), "X-Forwarded-For", "198.51.100."+itoa(int64(i+1)))...)
			if r.Status != 401 {
				t.Fatalf("failure %d: %d", i+1, r.Status)
			}
		}
		r := verifyCode(env, access, good)
		if r.Status != 429 {
			t.Fatalf("right code while locked: %d %s", r.Status, r.Body)
		}
		if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 800 || ra > 900 {
			t.Fatalf("Retry-After %q, want about 15 minutes", r.Header.Get("Retry-After"))
		}
		// Another admin is not affected.
		if r := verifyCode(env, other, code(t, otherSecret, time.Now())); r.Status != 200 {
			t.Fatalf("other admin: %d %s", r.Status, r.Body)
		}
	})
}

func TestDisabled(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.mfa.enabled": false}), func(t *testing.T, env *testkit.Env) {
		env.User(t, adminEmail, adminPass, "admin", nil, 0)
		access, _ := env.Login(t, adminEmail, adminPass, "admin")
		for _, rq := range []struct{ method, path string }{{"POST", "/admin/mfa/setup"}, {"POST", "/admin/mfa/verify"}, {"GET", "/admin/sensitive/ping"}} {
			if r := env.Client.Do(rq.method, rq.path, map[string]any{"code": "123456"}, testkit.Bearer(access)...); r.Status != 404 {
				t.Fatalf("%s with the module off: %d", rq.path, r.Status)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestConfig: mfa.freshness stays the core's; the module's issuer is modules.mfa.issuer, loads
// from files, overrides or the environment and is checked; under its old name mfa.issuer, beside
// mfa.freshness, it is still read, and an unknown key of the mfa section is still reported.
func TestConfig(t *testing.T) {
	t.Setenv("CASHLESS_AUTH_MFA_FRESHNESS", "2h")
	_, c, err := core.Load("", modules.All(), map[string]any{"modules.mfa.issuer": "Acme Events"})
	if err != nil {
		t.Fatalf("modules.mfa.issuer beside mfa.freshness: %v", err)
	}
	if c.MFA.Freshness != 2*time.Hour {
		t.Fatalf("mfa.freshness from the environment: %v", c.MFA.Freshness)
	}
	for _, bad := range []string{"", "Acme:Events"} {
		if _, _, err := core.Load("", modules.All(), map[string]any{"modules.mfa.issuer": bad}); err == nil || !strings.Contains(err.Error(), "modules.mfa.issuer") {
			t.Errorf("issuer %q: %v", bad, err)
		}
	}
	if _, _, err := core.Load("", modules.All(), map[string]any{"mfa.freshness": "soon"}); err == nil || !strings.Contains(err.Error(), "freshness") {
		t.Errorf("bad freshness: %v", err)
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte("mfa:\n  issuer: Acme\n  freshness: 1h\n  bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := core.Load(file, modules.All(), nil); err == nil || !strings.Contains(err.Error(), "mfa.bogus") || strings.Contains(err.Error(), "mfa.issuer") {
		t.Errorf("unknown mfa key: %v", err)
	}
	if err := os.WriteFile(file, []byte("mfa:\n  issuer: Acme\n  freshness: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, c, err = core.Load(file, modules.All(), nil)
	if err != nil || len(c.Renamed) != 1 || c.Renamed[0].Old != "mfa.issuer" || c.Renamed[0].New != "modules.mfa.issuer" {
		t.Errorf("old mfa.issuer: %v, renamed %+v", err, c.Renamed)
	}
}
