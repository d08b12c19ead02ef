package apikeys_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// runCLI runs the binary's command tree as cmd/cashless-auth builds it for the modules (the
// core's own commands aside): --config, then every plugin's commands mounted by core.CLI.
func runCLI(t *testing.T, conf string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var configPath string
	root := &cobra.Command{Use: "cashless-auth", SilenceUsage: true, SilenceErrors: true}
	root.PersistentFlags().StringVar(&configPath, "config", "", "config file")
	core.NewCLI(&configPath, modules.All()).Mount(root)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"--config", conf}, args...))
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// cliConfig is the configuration an operator's CLI uses beside env's running service: the same
// database and, on the postgres backend, the same Redis keyspace.
func cliConfig(t *testing.T, b storetest.Backend, env *testkit.Env, extra string) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "config.yaml")
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n", b.DataDir, b.URL, key)
	if env.RedisPrefix != "" {
		yaml += fmt.Sprintf("redis:\n  url: %q\n  prefix: %q\n", statetest.RedisURL(), env.RedisPrefix)
	}
	if err := os.WriteFile(conf, []byte(yaml+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

// createKey issues a key through the API, as an admin does; it returns the key and its id.
func createKey(t *testing.T, env *testkit.Env, admin string, ev int64, name string, scopes []string) (string, int64) {
	t.Helper()
	r := env.Client.Do("POST", "/tokens/api-key", map[string]any{"event_id": ev, "name": name, "scopes": scopes}, testkit.Bearer(admin)...)
	if r.Status != 200 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	body := r.JSON(t)
	return body["api_key"].(string), int64(body["id"].(float64))
}

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	return rows
}

// TestCommands: `api-keys list` shows the keys a running service issued, one JSON object per
// line, never the key or its hash; `api-keys revoke` ends a key on the running service (at
// once with Redis, within redis.cache_ttl on the embedded backend), says so when the key was
// already revoked, and fails for an unknown id.
func TestCommands(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := testkit.Start(t, b, opts(map[string]any{"redis.cache_ttl": "300ms"}))
			env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
			ev1, ev2 := env.Event(t, "Festival"), env.Event(t, "Stadium")
			admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
			key1, id1 := createKey(t, env, admin, ev1, "gate\tscanner", []string{"tickets:read"})
			key2, id2 := createKey(t, env, admin, ev2, "bar", []string{})
			conf := cliConfig(t, b, env, "")

			out, _, err := runCLI(t, conf, "api-keys", "list")
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			rows := jsonLines(t, out)
			if len(rows) != 2 || rows[0]["id"] != float64(id1) || rows[1]["id"] != float64(id2) {
				t.Fatalf("list: %s", out)
			}
			want := []string{"created_at", "event_id", "id", "key_prefix", "name", "revoked_at", "scopes"}
			for _, row := range rows {
				var keys []string
				for k := range row {
					keys = append(keys, k)
				}
				if strings.Join(slices.Sorted(slices.Values(keys)), ",") != strings.Join(want, ",") {
					t.Errorf("list fields %v, want %v", keys, want)
				}
			}
			if r := rows[0]; r["event_id"] != float64(ev1) || r["name"] != "gate\tscanner" || r["revoked_at"] != nil ||
				!strings.HasPrefix(key1, r["key_prefix"].(string)) || fmt.Sprint(r["scopes"]) != "[tickets:read]" {
				t.Errorf("first row: %v", r)
			}
			if _, err := time.Parse(time.RFC3339Nano, rows[0]["created_at"].(string)); err != nil {
				t.Errorf("created_at: %v", err)
			}
			sum := sha256.Sum256([]byte(key1))
			if strings.Contains(out, key1) || strings.Contains(out, key2) || strings.Contains(out, hex.EncodeToString(sum[:])) {
				t.Fatalf("list shows a key or its hash:\n%s", out)
			}

			out, _, err = runCLI(t, conf, "api-keys", "list", "--event", fmt.Sprint(ev2))
			if rows := jsonLines(t, out); err != nil || len(rows) != 1 || rows[0]["id"] != float64(id2) {
				t.Errorf("list --event %d: %v\n%s", ev2, err, out)
			}
			out, _, err = runCLI(t, conf, "api-keys", "list", "-o", "table")
			if err != nil || !strings.HasPrefix(out, "ID") || !strings.Contains(out, `"gate\tscanner"`) || strings.Count(out, "\n") != 3 {
				t.Errorf("list -o table: %v\n%s", err, out)
			}
			if _, _, err := runCLI(t, conf, "api-keys", "list", "-o", "yaml"); err == nil || !strings.Contains(err.Error(), "table") {
				t.Errorf("list -o yaml: %v", err)
			}

			out, _, err = runCLI(t, conf, "api-keys", "revoke", "--id", fmt.Sprint(id1))
			if err != nil || out != fmt.Sprintf("API key %d revoked\n", id1) {
				t.Fatalf("revoke: %q %v", out, err)
			}
			if env.RedisPrefix == "" {
				time.Sleep(400 * time.Millisecond) // the serving process's cached entry expires
			}
			if ok, claims := env.Verify(t, key1); ok {
				t.Errorf("revoked key still verifies: %v", claims)
			}
			if ok, _ := env.Verify(t, key2); !ok {
				t.Error("the other key stopped verifying")
			}
			out, _, err = runCLI(t, conf, "api-keys", "revoke", "--id", fmt.Sprint(id1))
			if err != nil || out != fmt.Sprintf("API key %d was already revoked\n", id1) {
				t.Errorf("second revoke: %q %v", out, err)
			}
			out, _, err = runCLI(t, conf, "api-keys", "list", "--event", fmt.Sprint(ev1))
			if rows := jsonLines(t, out); err != nil || len(rows) != 1 || rows[0]["revoked_at"] == nil {
				t.Errorf("list after revoke: %v\n%s", err, out)
			}
			out, _, err = runCLI(t, conf, "api-keys", "revoke", "--id", fmt.Sprint(id2+1000))
			if err == nil || out != "" || !strings.Contains(err.Error(), "no API key") {
				t.Errorf("revoke of an unknown id: %q %v", out, err)
			}
		})
	}
}

// TestCommandsDisabled: with the module switched off its commands refuse, naming the switch,
// print nothing and change nothing.
func TestCommandsDisabled(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := testkit.Start(t, b, opts(nil))
			env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
			ev := env.Event(t, "Festival")
			admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
			key, id := createKey(t, env, admin, ev, "k", []string{})
			conf := cliConfig(t, b, env, "modules:\n  api_keys:\n    enabled: false\n")
			for _, args := range [][]string{{"api-keys", "list"}, {"api-keys", "revoke", "--id", fmt.Sprint(id)}} {
				out, _, err := runCLI(t, conf, args...)
				if err == nil || out != "" || !strings.Contains(err.Error(), "modules.api_keys.enabled") {
					t.Errorf("%v: %q %v; want a refusal naming modules.api_keys.enabled", args, out, err)
				}
			}
			if ok, _ := env.Verify(t, key); !ok {
				t.Error("a refused revoke revoked the key")
			}
		})
	}
}
