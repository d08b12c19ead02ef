package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestUsersSessions: an operator lists any staff user's sessions as the admin sees them, from
// the replicas' shared state; without it the command says where the sessions are instead.
func TestUsersSessions(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := testkit.Start(t, b, testkit.Options{Plugins: modules.All(), Config: map[string]any{
				"ratelimit.trusted_proxies": []string{"127.0.0.1/32"},
			}})
			conf := serverConfig(t, b, env)
			const pw = "right-pass-123"
			admin := env.User(t, "admin@example.com", pw, "admin", nil, 0)
			idle := env.User(t, "idle@example.com", pw, "admin", nil, 0)
			var tokens []string
			for _, from := range []struct{ ip, ua string }{{"203.0.113.77", "Firefox 120"}, {"2001:db8:abcd:12::1", "phone\tapp\u202e"}} {
				r := env.Client.Do("POST", "/auth/login", map[string]any{"email": "admin@example.com", "password": pw, "role": "admin"},
					"X-Forwarded-For", from.ip, "User-Agent", from.ua)
				if r.Status != 200 {
					t.Fatalf("login: %d %s", r.Status, r.Body)
				}
				tokens = append(tokens, r.JSON(t)["access_token"].(string), r.JSON(t)["refresh_token"].(string))
			}

			out, stderr, err := runCLIIn(t, conf, "", "users", "sessions", "--id", strconv.FormatInt(admin, 10))
			if env.RedisPrefix == "" {
				if err == nil || !strings.Contains(err.Error(), "redis.url") || out != "" {
					t.Fatalf("embedded: err %v, stdout %q", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("users sessions: %v %s", err, stderr)
			}
			noSecrets(t, "users sessions", out, tokens...)
			rows := jsonObjects(t, out)
			if len(rows) != 2 {
				t.Fatalf("want 2 sessions, got %q", out)
			}
			seen := map[string]string{}
			for _, r := range rows {
				if r["lane"] != "password" || r["created_at"] == nil || r["session_id"] == "" {
					t.Errorf("session: %v", r)
				}
				seen[r["ip_prefix"].(string)] = r["user_agent"].(string)
			}
			if seen["203.0.113.0/24"] != "Firefox 120" || seen["2001:db8:abcd::/48"] != "phone app" {
				t.Errorf("networks and agents: %v", seen)
			}

			table, _, err := runCLIIn(t, conf, "", "users", "sessions", "--id", strconv.FormatInt(admin, 10), "-o", "table")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(table), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "SESSION") || !strings.Contains(table, `"phone app"`) {
				t.Errorf("table:\n%s", table)
			}
			if out, _, err := runCLIIn(t, conf, "", "users", "sessions", "--id", strconv.FormatInt(idle, 10)); err != nil || out != "" {
				t.Errorf("a user without sessions: %v %q", err, out)
			}
			if _, _, err := runCLIIn(t, conf, "", "users", "sessions", "--id", "999999"); err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Errorf("unknown user: %v", err)
			}
			if _, _, err := runCLIIn(t, conf, "", "users", "sessions"); err == nil || !strings.Contains(err.Error(), "--id") {
				t.Errorf("without --id: %v", err)
			}
		})
	}
}
