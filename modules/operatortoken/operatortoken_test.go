package operatortoken_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

func login(env *testkit.Env, email, password, devType, mac string) *testkit.Response {
	return env.Client.Do("POST", "/devices/operator-token", map[string]any{"email": email, "password": password, "dev_type": devType, "dev_mac": mac})
}

// matrix is the legacy role matrix, written out independently of the code under test.
var matrix = map[string]func(mode int) bool{
	"POS":      func(m int) bool { return m != 3 && m != 4 && m != 5 && m != 6 },
	"REPORT":   func(m int) bool { return m == 3 },
	"FASTPASS": func(m int) bool { return m == 4 },
	"KIDS":     func(m int) bool { return m == 5 },
	"DISPATCH": func(m int) bool { return m == 6 },
}

const pass = "op-pass-123"

func TestOperatorToken(t *testing.T) {
	cfg := map[string]any{"ratelimit.routes.operator_token.login": "1000/minute"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		ctx := context.Background()
		users := store.NewUsers(env.DB)
		ev := env.Event(t, "Festival")

		t.Run("every row of the role matrix, allowed and refused", func(t *testing.T) {
			var refusal string
			for _, mode := range []int{0, 3, 4, 5, 6, 7} {
				email := fmt.Sprintf("mode%d@example.com", mode)
				id := env.User(t, email, pass, "operator", &ev, mode)
				for devType, allowed := range matrix {
					r := login(env, email, pass, devType, "AA:BB:CC:00:11:22")
					switch {
					case allowed(mode) && r.Status == 200:
						m := r.JSON(t)
						if m["user_id"] != float64(id) || m["event_id"] != float64(ev) || m["email"] != email ||
							m["mode"] != float64(mode) || m["dev_type"] != devType || !strings.HasPrefix(m["token"].(string), "ost_") {
							t.Fatalf("mode %d %s: %v", mode, devType, m)
						}
					case !allowed(mode) && r.Status == 401:
						if refusal == "" {
							refusal = r.Detail(t)
						}
					default:
						t.Errorf("mode %d on %s: status %d (allowed=%v)", mode, devType, r.Status, allowed(mode))
					}
				}
			}
			// A right password with the wrong device type says the same as a wrong password.
			env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
			env.User(t, "nm@example.com", pass, "network_manager", &ev, 0)
			for name, body := range map[string][2]string{
				"wrong password":  {"mode0@example.com", "wrong-pass"},
				"unknown email":   {"nobody@example.com", pass},
				"admin account":   {"admin@example.com", "admin-pass-1"},
				"network manager": {"nm@example.com", pass},
			} {
				r := login(env, body[0], body[1], "POS", "AA:BB:CC:00:11:22")
				if r.Status != 401 || r.Detail(t) != refusal {
					t.Errorf("%s: %d %q, want 401 %q", name, r.Status, r.Detail(t), refusal)
				}
			}
		})

		opID := env.User(t, "op@example.com", pass, "operator", &ev, 4)
		var first string
		t.Run("the token is created once, stored sealed, and returned again unchanged", func(t *testing.T) {
			r := login(env, "OP@example.com", pass, "FASTPASS", "AA-BB-CC-DD-EE-FF")
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			first = r.JSON(t)["token"].(string)
			if len(first) < len("ost_")+43 {
				t.Fatalf("token too short for 256 bits: %d chars", len(first))
			}
			u, err := users.ByID(ctx, opID)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(first))
			if u.SessionTokenHash == nil || *u.SessionTokenHash != hex.EncodeToString(sum[:]) {
				t.Fatal("stored hash is not the token's SHA-256")
			}
			if u.SessionTokenSealed == nil || strings.Contains(*u.SessionTokenSealed, first[4:]) {
				t.Fatal("token not sealed at rest")
			}
			if u.LastDevMAC == nil || *u.LastDevMAC != "aa:bb:cc:dd:ee:ff" {
				t.Fatalf("dev_mac recorded as %v", u.LastDevMAC)
			}
			r = login(env, "op@example.com", pass, "FASTPASS", "legacy-terminal-7")
			if r.Status != 200 || r.JSON(t)["token"] != first {
				t.Fatalf("second login: %d, token changed", r.Status)
			}
			if u, _ := users.ByID(ctx, opID); u.LastDevMAC == nil || *u.LastDevMAC != "legacy-terminal-7" {
				t.Fatalf("non-MAC dev_mac recorded as %v", u.LastDevMAC)
			}
		})
		t.Run("POST /tokens/verify accepts it with the operator's claims", func(t *testing.T) {
			ok, claims := env.Verify(t, first)
			if !ok || claims["type"] != "operator_session" || claims["sub"] != fmt.Sprint(opID) || claims["role"] != "operator" ||
				claims["event_id"] != float64(ev) || claims["mode"] != float64(4) || claims["dev_type"] != "FASTPASS" {
				t.Fatalf("verify: %v %v", ok, claims)
			}
			for _, bad := range []string{first[:len(first)-1] + "A", first + "x", "ost_", "ost_short"} {
				if ok, _ := env.Verify(t, bad); ok && bad != first {
					t.Errorf("%q verified", bad)
				}
			}
		})
		t.Run("a revoked token stops verifying and the next login gets a new one", func(t *testing.T) {
			// What `cashless-auth users revoke-session --id N` does.
			if err := users.ClearSessionToken(ctx, opID); err != nil {
				t.Fatal(err)
			}
			if ok, _ := env.Verify(t, first); ok {
				t.Fatal("revoked token still verifies")
			}
			r := login(env, "op@example.com", pass, "FASTPASS", "AA:BB:CC:DD:EE:FF")
			if r.Status != 200 {
				t.Fatalf("%d", r.Status)
			}
			next := r.JSON(t)["token"].(string)
			if next == first {
				t.Fatal("token not rotated after revocation")
			}
			if ok, _ := env.Verify(t, next); !ok {
				t.Fatal("new token does not verify")
			}
		})
		t.Run("concurrent first logins all get the same token", func(t *testing.T) {
			env.User(t, "race@example.com", pass, "operator", &ev, 0)
			const n = 6
			tokens := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := login(env, "race@example.com", pass, "POS", "AA:BB:CC:00:11:22")
					var m map[string]any
					if r.Status == 200 && json.Unmarshal(r.Body, &m) == nil {
						tokens[i], _ = m["token"].(string)
					}
				}()
			}
			wg.Wait()
			for i, tok := range tokens {
				if tok == "" || tok != tokens[0] {
					t.Fatalf("login %d got %.8q, login 0 got %.8q", i, tok, tokens[0])
				}
			}
		})
		t.Run("an unknown dev_type or a missing field is a 422", func(t *testing.T) {
			r := login(env, "op@example.com", pass, "TABLET", "AA:BB:CC:DD:EE:FF")
			if r.Status != 422 {
				t.Fatalf("%d", r.Status)
			}
			first := r.JSON(t)["detail"].([]any)[0].(map[string]any)
			if first["type"] != "string_pattern_mismatch" || fmt.Sprint(first["loc"]) != "[body dev_type]" {
				t.Fatalf("issue %v", first)
			}
			r = env.Client.Do("POST", "/devices/operator-token", map[string]any{"email": "op@example.com", "password": pass, "dev_type": "POS"})
			if r.Status != 422 || r.JSON(t)["detail"].([]any)[0].(map[string]any)["type"] != "missing" {
				t.Fatalf("missing dev_mac: %d %s", r.Status, r.Body)
			}
		})
		t.Run("the route is limited to 30/minute per IP", func(t *testing.T) {
			for _, rt := range env.Server.Handler().Routes {
				if rt.Name == "operator_token.login" {
					if rt.Limit != "30/minute" {
						t.Fatalf("limit %q", rt.Limit)
					}
					return
				}
			}
			t.Fatal("route not served")
		})
	})
}

// TestSharedAccountLock: guesses on this lane lock the account for POST /auth/login too, since
// both check the same password.
func TestSharedAccountLock(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"ratelimit.routes.operator_token.login": "1000/minute"}), func(t *testing.T, env *testkit.Env) {
		ev := env.Event(t, "Festival")
		env.User(t, "victim@example.com", pass, "operator", &ev, 0)
		for _, email := range []string{"victim@example.com", "ghost@example.com"} {
			for i := 0; i < 10; i++ {
				if r := login(env, email, "guess", "POS", "AA:BB:CC:00:11:22"); r.Status != 401 {
					t.Fatalf("%s failure %d: %d", email, i+1, r.Status)
				}
			}
			r := login(env, email, pass, "POS", "AA:BB:CC:00:11:22")
			if r.Status != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s after 10 failures: %d", email, r.Status)
			}
		}
		r := env.Client.Do("POST", "/auth/login", map[string]any{"email": "victim@example.com", "password": pass, "role": "operator"})
		if r.Status != 429 {
			t.Fatalf("password lane not locked: %d", r.Status)
		}
	})
}

func TestOperatorTokenLaneDisabled(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.operator_token.enabled": false}), func(t *testing.T, env *testkit.Env) {
		ev := env.Event(t, "Festival")
		env.User(t, "op@example.com", pass, "operator", &ev, 0)
		if r := login(env, "op@example.com", pass, "POS", "AA:BB:CC:00:11:22"); r.Status != 404 {
			t.Fatalf("disabled lane: %d", r.Status)
		}
		if strings.Contains(string(env.Client.Do("GET", "/openapi.json", nil).Body), "issue_operator_session_token_devices_operator_token_post") {
			t.Fatal("disabled lane still documented")
		}
		// A token issued while the lane was on no longer verifies once it is off.
		users := store.NewUsers(env.DB)
		u, _ := users.ByEmail(context.Background(), "op@example.com")
		tok := "ost_" + strings.Repeat("A", 43)
		sum := sha256.Sum256([]byte(tok))
		if err := users.SetSessionToken(context.Background(), u.ID, hex.EncodeToString(sum[:]), "v1:unused"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := env.Verify(t, tok); ok {
			t.Fatal("operator token verified with the lane off")
		}
	})
}
