package forwardauth_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func options(extra map[string]any) testkit.Options {
	cfg := map[string]any{"modules.forward_auth.enabled": true}
	for k, v := range extra {
		cfg[k] = v
	}
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

// fixture is a running server with an admin's access and refresh tokens, a consumer-free
// operator's access token and an API key.
type fixture struct {
	env                      *testkit.Env
	admin, refresh, operator string
	apiKey                   string
	event                    int64
}

func setup(t *testing.T, env *testkit.Env) fixture {
	t.Helper()
	f := fixture{env: env, event: env.Event(t, "Gateway festival")}
	env.User(t, "admin@example.com", "admin-password-1", "admin", nil, 0)
	env.User(t, "op@example.com", "operator-password-1", "operator", testkit.Ptr(f.event), 0)
	f.admin, f.refresh = env.Login(t, "admin@example.com", "admin-password-1", "admin")
	f.operator, _ = env.Login(t, "op@example.com", "operator-password-1", "operator")
	r := env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": f.event, "name": "gate", "scopes": []string{"tickets:read"}}, testkit.Bearer(f.admin)...)
	if r.Status != 200 {
		t.Fatalf("create API key: %d %s", r.Status, r.Body)
	}
	f.apiKey, _ = r.JSON(t)["api_key"].(string)
	return f
}

func (f fixture) forward(method, path, token string, headers ...string) *testkit.Response {
	if token != "" {
		headers = append(headers, testkit.Bearer(token)...)
	}
	return f.env.Client.Do(method, path, nil, headers...)
}

// TestForwardAuth: the answers gateways act on, with their headers, on both backends.
func TestForwardAuth(t *testing.T) {
	testkit.ForEachBackend(t, options(nil), func(t *testing.T, env *testkit.Env) {
		f := setup(t, env)
		expect := func(name string, r *testkit.Response, status int, headers map[string]string) {
			t.Helper()
			if r.Status != status {
				t.Fatalf("%s: %d %s, want %d", name, r.Status, r.Body, status)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s: Cache-Control %q", name, got)
			}
			for k, want := range headers {
				if got := r.Header.Get(k); got != want {
					t.Errorf("%s: %s = %q, want %q", name, k, got, want)
				}
			}
		}
		expect("admin GET", f.forward("GET", "/auth/forward", f.admin), 200, map[string]string{
			"X-Auth-Role": "admin", "X-Auth-Token-Type": "access", "X-Auth-Event-Id": "", "X-Auth-MFA-Verified-At": "",
		})
		if f.forward("GET", "/auth/forward", f.admin).Header.Get("X-Auth-Subject") == "" {
			t.Fatal("no X-Auth-Subject")
		}
		for _, m := range []string{"HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			expect("admin "+m, f.forward(m, "/auth/forward", f.admin), 200, map[string]string{"X-Auth-Role": "admin"})
		}
		expect("operator", f.forward("GET", "/auth/forward", f.operator), 200, map[string]string{
			"X-Auth-Role": "operator", "X-Auth-Event-Id": itoa(f.event),
		})
		expect("API key", f.forward("GET", "/auth/forward", f.apiKey), 200, map[string]string{
			"X-Auth-Token-Type": "api_key", "X-Auth-Event-Id": itoa(f.event), "X-Auth-Role": "",
		})
		expect("no token", f.forward("GET", "/auth/forward", ""), 401, map[string]string{"WWW-Authenticate": "Bearer"})
		expect("garbage", f.forward("GET", "/auth/forward", "not-a-token"), 401, map[string]string{"WWW-Authenticate": "Bearer"})
		expect("refresh token", f.forward("GET", "/auth/forward", f.refresh), 401, nil)
		expect("access, type=offline", f.forward("GET", "/auth/forward?type=offline", f.admin), 401, nil)
		expect("API key, type=access", f.forward("GET", "/auth/forward?type=access", f.apiKey), 401, nil)
		expect("role=admin", f.forward("GET", "/auth/forward?role=admin", f.admin), 200, nil)
		expect("role=admin,operator", f.forward("GET", "/auth/forward?role=admin,operator", f.operator), 200, nil)
		expect("operator, role=admin", f.forward("GET", "/auth/forward?role=admin", f.operator), 403, nil)
		expect("API key, role=admin", f.forward("GET", "/auth/forward?role=admin", f.apiKey), 403, nil)
		expect("mfa=fresh without MFA", f.forward("GET", "/auth/forward?role=admin&mfa=fresh", f.admin), 403, nil)

		// Envoy's shape: the client's path and query appended; the options come from a header.
		expect("below", f.forward("DELETE", "/auth/forward/api/orders/7", f.admin), 200, map[string]string{"X-Auth-Role": "admin"})
		expect("below, empty rest", f.forward("GET", "/auth/forward/", f.admin), 200, nil)
		expect("client query ignored", f.forward("GET", "/auth/forward/api?type=offline&x=1", f.admin), 200, nil)
		expect("below, header role", f.forward("GET", "/auth/forward/api", f.operator, "X-Forward-Auth-Options", "role=admin"), 403, nil)
		expect("below, header nonsense", f.forward("GET", "/auth/forward/api", f.admin, "X-Forward-Auth-Options", "role=king"), 422, nil)

		// Nonsense options are a 422 in pydantic's shape, before any token is looked at.
		for query, loc := range map[string]string{
			"?role=king": `["query","role",0]`, "?type=refresh": `["query","type",0]`, "?mfa=stale": `["query","mfa",0]`,
			"?foo=1": `["query","foo"]`, "?type=access,": `["query","type",1]`, "?mfa=fresh&mfa=fresh": `["query","mfa"]`,
		} {
			r := f.forward("GET", "/auth/forward"+query, "")
			expect(query, r, 422, nil)
			if !strings.Contains(string(r.Body), `"loc":`+loc) {
				t.Errorf("%s: %s, want loc %s", query, r.Body, loc)
			}
		}

		// Revocation reaches the gateway at once: the same check as POST /tokens/verify.
		if r := env.Client.Do("POST", "/auth/logout", map[string]any{"refresh_token": f.refresh}, testkit.Bearer(f.admin)...); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		expect("after logout", f.forward("GET", "/auth/forward", f.admin), 401, nil)
	})
}

// TestOneLimitPerClient: every method and path share one bucket, keyed on the original client
// that the trusted gateway names in X-Forwarded-For, and the 429 is no-store too.
func TestOneLimitPerClient(t *testing.T) {
	env := testkit.Start(t, storetest.Backends(t)[0], options(map[string]any{
		"ratelimit.trusted_proxies":           []string{"127.0.0.1/32"},
		"ratelimit.routes.forward_auth.check": "3/minute",
	}))
	do := func(method, path, client string) *testkit.Response {
		return env.Client.Do(method, path, nil, "X-Forwarded-For", client)
	}
	for _, req := range [][2]string{{"GET", "/auth/forward"}, {"POST", "/auth/forward"}, {"GET", "/auth/forward/x"}} {
		if r := do(req[0], req[1], "198.51.100.1"); r.Status != 401 {
			t.Fatalf("%v: %d %s", req, r.Status, r.Body)
		}
	}
	r := do("PUT", "/auth/forward/y", "198.51.100.1")
	if r.Status != 429 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("4th request of one client: %d, Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
	}
	if r := do("GET", "/auth/forward", "198.51.100.2"); r.Status != 401 {
		t.Fatalf("another client behind the same gateway: %d", r.Status)
	}
}

// TestOffByDefault: without the switch there is no endpoint.
func TestOffByDefault(t *testing.T) {
	env := testkit.Start(t, storetest.Backends(t)[0], testkit.Options{Plugins: modules.All()})
	if r := env.Client.Do("GET", "/auth/forward", nil); r.Status != 404 {
		t.Fatalf("disabled: %d", r.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
