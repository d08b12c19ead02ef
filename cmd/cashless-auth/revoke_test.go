package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestRevokeCommands: `users revoke-session` ends every token a running service issued to the
// user (access, refresh, offline, ost_) and `devices archive` the device's, with the CLI's own
// configuration, as an operator runs them (NOTES.md, "Hardening decisions"). With Redis the
// command returns once the service has applied it; on the embedded backend the serving process
// applies it when its cached entry expires (redis.cache_ttl, short here).
func TestRevokeCommands(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := testkit.Start(t, b, testkit.Options{Plugins: modules.All(), Config: map[string]any{"redis.cache_ttl": "300ms"}})
			const pw = "right-pass-123"
			ev := env.Event(t, "Festival")
			op := env.User(t, "op@example.com", pw, "operator", &ev, 0)
			dev := env.Device(t, ev, "02:00:00:00:00:21", "Bar", &op)
			pair := func() (string, string) { return env.Login(t, "op@example.com", pw, "operator") }
			access, refresh := pair()
			ok := func(r *testkit.Response, field string) string {
				t.Helper()
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				return r.JSON(t)[field].(string)
			}
			ost := func() string {
				return ok(env.Client.Do("POST", "/devices/operator-token", map[string]any{"email": "op@example.com", "password": pw, "dev_type": "POS", "dev_mac": "02:00:00:00:00:22"}), "token")
			}
			held := map[string]string{
				"access token":  access,
				"offline token": ok(env.Client.Do("POST", "/tokens/offline", map[string]any{"event_id": ev}, testkit.Bearer(access)...), "offline_token"),
				"ost_ token":    ost(),
				"device token":  ok(env.Client.Do("POST", "/auth/login/device", map[string]any{"dev_mac": "02:00:00:00:00:21", "event_id": ev}), "offline_token"),
			}
			for what, tok := range held {
				if valid, _ := env.Verify(t, tok); !valid {
					t.Fatalf("%s does not verify before the commands", what)
				}
			}

			conf := filepath.Join(t.TempDir(), "config.yaml")
			key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n", b.DataDir, b.URL, key)
			if env.RedisPrefix != "" {
				yaml += fmt.Sprintf("redis:\n  url: %q\n  prefix: %q\n", statetest.RedisURL(), env.RedisPrefix)
			}
			if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"users", "revoke-session", "--id", fmt.Sprint(op)}, {"devices", "archive", "--id", fmt.Sprint(dev)}} {
				out, err := runCLI(t, conf, args...)
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				if got := printedIDOf(t, out); got != op && got != dev {
					t.Fatalf("%v printed %d", args, got)
				}
			}
			if env.RedisPrefix == "" {
				time.Sleep(400 * time.Millisecond) // the serving process's cached entries expire
			}
			for what, tok := range held {
				if valid, claims := env.Verify(t, tok); valid {
					t.Errorf("%s still verifies: %v", what, claims)
				}
			}
			if r := env.Client.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh}); r.Status != 401 {
				t.Errorf("refresh after revoke-session: %d", r.Status)
			}
			access, _ = pair()
			if valid, _ := env.Verify(t, access); !valid {
				t.Error("a login right after revoke-session does not verify")
			}
			if got := ost(); got == held["ost_ token"] {
				t.Error("the revoked ost_ token was handed back")
			}
		})
	}
}
