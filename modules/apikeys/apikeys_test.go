package apikeys_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
	"github.com/cashlessmedia/cashless-auth/modules/apikeys"
)

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

func TestCreateVerifyRevoke(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		ev := env.Event(t, "Festival")
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")

		r := c.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "gate scanner", "scopes": []string{"tickets:read", "wallet:charge"}}, testkit.Bearer(admin)...)
		if r.Status != 200 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		key, _ := body["api_key"].(string)
		id := int64(body["id"].(float64))
		if !strings.HasPrefix(key, "ck_") || len(key) < 3+43 || body["name"] != "gate scanner" || body["event_id"] != float64(ev) {
			t.Fatalf("create body: %v", body)
		}
		if _, err := time.Parse(time.RFC3339, body["created_at"].(string)); err != nil {
			t.Fatalf("created_at: %v", err)
		}

		// Stored as a hash with a visible prefix, never in plaintext.
		rec, err := apikeys.NewEventClients(env.DB).ByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(key))
		if rec.Hash == nil || *rec.Hash != hex.EncodeToString(sum[:]) || !strings.HasPrefix(key, rec.Prefix) || len(rec.Prefix) < 8 || len(rec.Prefix) > 16 {
			t.Fatalf("stored record: hash %v prefix %q", rec.Hash, rec.Prefix)
		}

		ok, claims := env.Verify(t, key)
		if !ok {
			t.Fatal("new key does not verify")
		}
		scopes, _ := claims["scopes"].([]any)
		if claims["type"] != "api_key" || claims["event_id"] != float64(ev) || claims["sub"] != fmt.Sprintf("api_key:%d", id) ||
			claims["name"] != "gate scanner" || len(scopes) != 2 || scopes[0] != "tickets:read" {
			t.Fatalf("claims: %v", claims)
		}
		// Lookalikes do not verify.
		for _, bad := range []string{key[:len(key)-1] + flip(key[len(key)-1]), key + "x", "ck_", "ck_short", strings.ToUpper(key)} {
			if ok, claims := env.Verify(t, bad); ok || claims != nil {
				t.Fatalf("%q verified", bad)
			}
		}

		r = c.Do("DELETE", fmt.Sprintf("/tokens/api-key/%d", id), nil, testkit.Bearer(admin)...)
		if r.Status != 200 || r.JSON(t)["message"] == "" {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if ok, claims := env.Verify(t, key); ok || claims != nil {
			t.Fatal("revoked key still verifies")
		}
		if r := c.Do("DELETE", fmt.Sprintf("/tokens/api-key/%d", id), nil, testkit.Bearer(admin)...); r.Status != 200 {
			t.Fatalf("second revoke: %d", r.Status)
		}
		if r := c.Do("DELETE", "/tokens/api-key/999999", nil, testkit.Bearer(admin)...); r.Status != 404 {
			t.Fatalf("unknown id: %d", r.Status)
		}
		r = c.Do("DELETE", "/tokens/api-key/abc", nil, testkit.Bearer(admin)...)
		if r.Status != 422 {
			t.Fatalf("non-integer id: %d", r.Status)
		}
		loc := r.JSON(t)["detail"].([]any)[0].(map[string]any)["loc"].([]any)
		if len(loc) != 2 || loc[0] != "path" || loc[1] != "key_id" {
			t.Fatalf("422 loc: %v", loc)
		}

		// Keys are independent: revoking one leaves another valid.
		r1 := c.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "a", "scopes": []string{}}, testkit.Bearer(admin)...).JSON(t)
		r2 := c.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "b", "scopes": []string{}}, testkit.Bearer(admin)...).JSON(t)
		if r1["api_key"] == r2["api_key"] {
			t.Fatal("two keys are equal")
		}
		c.Do("DELETE", fmt.Sprintf("/tokens/api-key/%d", int64(r1["id"].(float64))), nil, testkit.Bearer(admin)...)
		if ok, claims := env.Verify(t, r2["api_key"].(string)); !ok || len(claims["scopes"].([]any)) != 0 {
			t.Fatalf("other key: %v %v", ok, claims)
		}
	})
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestAccessAndValidation(t *testing.T) {
	testkit.ForEachBackend(t, opts(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		ev := env.Event(t, "Stadium")
		env.User(t, "op@example.com", "op-pass-123", "operator", &ev, 0)
		env.User(t, "nm@example.com", "nm-pass-123", "network_manager", nil, 0)
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		op, _ := env.Login(t, "op@example.com", "op-pass-123", "operator")
		nm, _ := env.Login(t, "nm@example.com", "nm-pass-123", "network_manager")
		req := map[string]any{"event_id": ev, "name": "pos", "scopes": []string{"x"}}

		for name, tok := range map[string]string{"operator": op, "network manager": nm} {
			if r := c.Do("POST", "/tokens/api-key", req, testkit.Bearer(tok)...); r.Status != 403 {
				t.Fatalf("create as %s: %d", name, r.Status)
			}
			if r := c.Do("DELETE", "/tokens/api-key/1", nil, testkit.Bearer(tok)...); r.Status != 403 {
				t.Fatalf("revoke as %s: %d", name, r.Status)
			}
		}
		if r := c.Do("POST", "/tokens/api-key", req); r.Status != 401 {
			t.Fatalf("anonymous create: %d", r.Status)
		}
		if r := c.Do("DELETE", "/tokens/api-key/1", nil); r.Status != 401 {
			t.Fatalf("anonymous revoke: %d", r.Status)
		}
		// An API key is no bearer credential.
		key := c.Do("POST", "/tokens/api-key", req, testkit.Bearer(admin)...).JSON(t)["api_key"].(string)
		if r := c.Do("POST", "/tokens/api-key", req, testkit.Bearer(key)...); r.Status != 401 {
			t.Fatalf("API key as bearer: %d", r.Status)
		}

		if r := c.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev + 1000, "name": "pos", "scopes": []string{}}, testkit.Bearer(admin)...); r.Status != 404 {
			t.Fatalf("unknown event: %d %s", r.Status, r.Body)
		}
		for _, body := range []map[string]any{
			{"event_id": ev, "name": "pos"},
			{"event_id": ev, "name": "", "scopes": []string{}},
			{"event_id": ev, "name": strings.Repeat("n", 101), "scopes": []string{}},
			{"event_id": "x", "name": "pos", "scopes": []string{}},
			{"event_id": ev, "name": "pos", "scopes": []any{1}},
			{"event_id": ev, "name": "pos", "scopes": []string{}, "extra": true},
		} {
			if r := c.Do("POST", "/tokens/api-key", body, testkit.Bearer(admin)...); r.Status != 422 {
				t.Fatalf("%v: %d", body, r.Status)
			}
		}
	})
}

func TestCreateRateLimit(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"ratelimit.routes.api_keys.create": "2/minute"}), func(t *testing.T, env *testkit.Env) {
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		ev := env.Event(t, "Fest")
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		for i := 0; i < 2; i++ {
			env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "k", "scopes": []string{}}, testkit.Bearer(admin)...)
		}
		r := env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "k", "scopes": []string{}}, testkit.Bearer(admin)...)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("third create: %d", r.Status)
		}
	})
}

func TestDisabled(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.api_keys.enabled": false}), func(t *testing.T, env *testkit.Env) {
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		ev := env.Event(t, "Fest")
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		if r := env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "k", "scopes": []string{}}, testkit.Bearer(admin)...); r.Status != 404 {
			t.Fatalf("create with the module off: %d", r.Status)
		}
		if r := env.Client.Do("DELETE", "/tokens/api-key/1", nil, testkit.Bearer(admin)...); r.Status != 404 {
			t.Fatalf("revoke with the module off: %d", r.Status)
		}
		// Without the module, /tokens/verify knows no API keys: a key stored earlier is not valid.
		key := "ck_" + strings.Repeat("A", 43)
		sum := sha256.Sum256([]byte(key))
		if _, err := apikeys.NewEventClients(env.DB).Create(context.Background(), apikeys.NewEventClient{EventID: ev, Name: "k", Prefix: key[:11], Hash: hex.EncodeToString(sum[:])}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := env.Verify(t, key); ok {
			t.Fatal("API key verified with the module off")
		}
	})
}

// TestRevocationReachesOtherReplicas: two replicas on one database and one Redis (several
// replicas need shared state; the embedded default is single-replica); a key revoked through
// one stops verifying on the other at once, although the other had it cached.
func TestRevocationReachesOtherReplicas(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		if b.Name != "postgres" {
			continue
		}
		t.Run(b.Name, func(t *testing.T) {
			a := testkit.Start(t, b, opts(nil))
			other := testkit.Start(t, b, opts(map[string]any{"redis.prefix": a.RedisPrefix}))
			a.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
			ev := a.Event(t, "Fest")
			admin, _ := a.Login(t, "admin@example.com", "admin-pass-1", "admin")
			body := a.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": "k", "scopes": []string{"s"}}, testkit.Bearer(admin)...).JSON(t)
			key := body["api_key"].(string)
			for i := 0; i < 3; i++ { // cached on the other replica from the second call on
				if ok, _ := other.Verify(t, key); !ok {
					t.Fatal("key does not verify on the other replica")
				}
			}
			if r := a.Client.Do("DELETE", fmt.Sprintf("/tokens/api-key/%d", int64(body["id"].(float64))), nil, testkit.Bearer(admin)...); r.Status != 200 {
				t.Fatalf("revoke: %d", r.Status)
			}
			if ok, _ := other.Verify(t, key); ok {
				t.Fatal("revoked key still verifies on the other replica")
			}
		})
	}
}
