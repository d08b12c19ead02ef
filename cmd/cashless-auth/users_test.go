package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// runCLIIn executes the CLI with the config file conf and stdin, and returns stdout and stderr.
func runCLIIn(t *testing.T, conf, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"--config", conf}, args...))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// serverConfig writes the config file an operator's CLI uses beside the running env.
func serverConfig(t *testing.T, b storetest.Backend, env *testkit.Env) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "config.yaml")
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\n", b.DataDir, b.URL, key)
	if env.RedisPrefix != "" {
		yaml += fmt.Sprintf("redis:\n  url: %q\n  prefix: %q\n", statetest.RedisURL(), env.RedisPrefix)
	}
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

func jsonObjects(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not one JSON object per line: %q", out)
		}
		objs = append(objs, m)
	}
	return objs
}

// noSecrets fails when raw CLI output shows a password hash, a token or a password.
func noSecrets(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	for _, s := range append([]string{"password_hash", "$argon2id$", "session_token", "ost_"}, secrets...) {
		if strings.Contains(out, s) {
			t.Errorf("%s shows %q:\n%s", what, s, out)
		}
	}
}

// TestUsersCommands: users list|show|disable|enable|set-password|bind-event|unbind-event
// against a running service on each backend, as an operator runs them at 3 a.m.
func TestUsersCommands(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := testkit.Start(t, b, testkit.Options{Plugins: modules.All(), Config: map[string]any{
				"redis.cache_ttl":                       "300ms",
				"ratelimit.routes.password.login":       "1000/minute",
				"ratelimit.routes.operator_token.login": "1000/minute",
				"ratelimit.routes.device.login":         "1000/minute",
				"ratelimit.routes.session.refresh":      "1000/minute",
				"ratelimit.routes.mfa.setup":            "1000/minute",
			}})
			conf := serverConfig(t, b, env)
			const pw, newPW = "right-pass-123", "new-pass-4567"
			ev := env.Event(t, "Festival")
			op := env.User(t, "op@example.com", pw, "operator", &ev, 0)
			admin := env.User(t, "admin@example.com", pw, "admin", nil, 0)
			env.Device(t, ev, "02:00:00:00:00:31", "Bar", &op)
			applied := func() {
				if env.RedisPrefix == "" {
					time.Sleep(400 * time.Millisecond) // the serving process's cached entries expire
				}
			}
			cli := func(stdin string, args ...string) string {
				t.Helper()
				out, errOut, err := runCLIIn(t, conf, stdin, args...)
				if err != nil {
					t.Fatalf("%v: %v (%s)", args, err, errOut)
				}
				noSecrets(t, fmt.Sprint(args), out+errOut, pw, newPW)
				return out
			}
			fails := func(want string, stdin string, args ...string) {
				t.Helper()
				out, _, err := runCLIIn(t, conf, stdin, args...)
				if err == nil || out != "" || !strings.Contains(err.Error(), want) {
					t.Errorf("%v: err %v, stdout %q; want a failure saying %q", args, err, out, want)
				}
			}
			id := fmt.Sprint

			// Lanes: each answer a disabled account must get is the one a wrong password gets.
			type answer struct {
				status int
				detail string
			}
			ans := func(r *testkit.Response) answer { return answer{r.Status, r.Detail(t)} }
			login := func(email, password string) *testkit.Response {
				return env.Client.Do("POST", "/auth/login", map[string]any{"email": email, "password": password})
			}
			ostLogin := func(password string) *testkit.Response {
				return env.Client.Do("POST", "/devices/operator-token", map[string]any{"email": "op@example.com", "password": password, "dev_type": "POS", "dev_mac": "02:00:00:00:00:32"})
			}
			deviceLogin := func(mac string) *testkit.Response {
				return env.Client.Do("POST", "/auth/login/device", map[string]any{"dev_mac": mac, "event_id": ev})
			}
			wrongLogin, wrongOst, unknownDevice := ans(login("op@example.com", "wrong-pass-1")), ans(ostLogin("wrong-pass-1")), ans(deviceLogin("02:00:00:00:00:99"))
			field := func(r *testkit.Response, name string) string {
				t.Helper()
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				return r.JSON(t)[name].(string)
			}

			// list and show: JSON lines and a table, filters, never a hash.
			ost := field(ostLogin(pw), "token")
			all := jsonObjects(t, cli("", "users", "list"))
			if len(all) != 2 || all[0]["email"] != "op@example.com" || all[0]["event_id"] != float64(ev) ||
				all[0]["disabled"] != false || all[0]["has_operator_token"] != true || all[1]["role"] != "admin" {
				t.Fatalf("users list: %v", all)
			}
			for _, c := range []struct {
				args []string
				want int
			}{
				{[]string{"--role", "operator"}, 1}, {[]string{"--event-id", id(ev)}, 1},
				{[]string{"--disabled"}, 0}, {[]string{"--disabled=false"}, 2},
			} {
				if got := jsonObjects(t, cli("", append([]string{"users", "list"}, c.args...)...)); len(got) != c.want {
					t.Errorf("users list %v: %d users, want %d", c.args, len(got), c.want)
				}
			}
			table := cli("", "users", "list", "-o", "table")
			if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, "EMAIL") || !strings.Contains(table, "op@example.com") || strings.Count(table, "\n") != 3 {
				t.Errorf("users list -o table:\n%s", table)
			}
			for _, args := range [][]string{{"--id", id(op)}, {"--email", "OP@Example.com"}} {
				got := jsonObjects(t, cli("", append([]string{"users", "show"}, args...)...))
				if len(got) != 1 || got[0]["id"] != float64(op) {
					t.Errorf("users show %v: %v", args, got)
				}
			}
			if out := cli("", "users", "show", "--id", id(op), "-o", "table"); !strings.Contains(out, "op@example.com") || !strings.HasPrefix(out, "ID ") {
				t.Errorf("users show -o table:\n%s", out)
			}
			fails("user 999 does not exist", "", "users", "show", "--id", "999")
			fails(`user "nobody@example.com" does not exist`, "", "users", "show", "--email", "nobody@example.com")
			fails("exactly one of --id and --email", "", "users", "show")
			fails("--output", "", "users", "list", "-o", "yaml")

			// disable: every lane answers a wrong password; everything held ends.
			access, refresh := env.Login(t, "op@example.com", pw, "operator")
			adminAccess, _ := env.Login(t, "admin@example.com", pw, "admin")
			held := map[string]string{
				"access token":  access,
				"offline token": field(env.Client.Do("POST", "/tokens/offline", map[string]any{"event_id": ev}, testkit.Bearer(access)...), "offline_token"),
				"ost_ token":    ost,
			}
			if r := deviceLogin("02:00:00:00:00:31"); r.Status != 200 {
				t.Fatalf("device login before disable: %d %s", r.Status, r.Body)
			}
			for _, u := range []int64{op, admin} {
				if got := printedIDOf(t, cli("", "users", "disable", "--id", id(u))); got != u {
					t.Fatalf("disable printed %d", got)
				}
			}
			applied()
			for what, tok := range held {
				if valid, claims := env.Verify(t, tok); valid {
					t.Errorf("%s of a disabled user still verifies: %v", what, claims)
				}
			}
			if r := env.Client.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh}); r.Status != 401 {
				t.Errorf("refresh of a disabled user: %d %s", r.Status, r.Body)
			}
			if r := env.Client.Do("POST", "/admin/mfa/setup", nil, testkit.Bearer(adminAccess)...); r.Status != 401 {
				t.Errorf("MFA setup of a disabled admin: %d %s", r.Status, r.Body)
			}
			for _, c := range []struct {
				lane       string
				got, wrong answer
			}{
				{"password login (operator)", ans(login("op@example.com", pw)), wrongLogin},
				{"password login (admin)", ans(login("admin@example.com", pw)), wrongLogin},
				{"operator token", ans(ostLogin(pw)), wrongOst},
				{"device of a disabled operator", ans(deviceLogin("02:00:00:00:00:31")), unknownDevice},
			} {
				if c.got != c.wrong || c.got.status != 401 {
					t.Errorf("%s of a disabled user: %+v; want the wrong-credential answer %+v", c.lane, c.got, c.wrong)
				}
			}
			if got := jsonObjects(t, cli("", "users", "list", "--disabled")); len(got) != 2 || got[0]["disabled"] != true || got[0]["disabled_at"] == nil || got[0]["has_operator_token"] != false {
				t.Errorf("users list --disabled: %v", got)
			}
			if _, errOut, err := runCLIIn(t, conf, "", "users", "disable", "--id", id(op)); err != nil || !strings.Contains(errOut, "already disabled") {
				t.Errorf("disabling twice: %v %q", err, errOut)
			}

			// enable: the same password logs in on every lane again.
			for _, u := range []int64{op, admin} {
				if got := printedIDOf(t, cli("", "users", "enable", "--id", id(u))); got != u {
					t.Fatalf("enable printed %d", got)
				}
			}
			access, _ = env.Login(t, "op@example.com", pw, "operator")
			env.Login(t, "admin@example.com", pw, "admin")
			if got := field(ostLogin(pw), "token"); got == ost {
				t.Error("the ost_ token ended by disable was handed back")
			}
			if r := deviceLogin("02:00:00:00:00:31"); r.Status != 200 {
				t.Errorf("device login after enable: %d %s", r.Status, r.Body)
			}

			// set-password: from stdin, the policy's, old sessions and password end.
			fails("at least 8 characters", "short\n", "users", "set-password", "--id", id(op))
			fails("at most 128 characters", strings.Repeat("p", 129)+"\n", "users", "set-password", "--id", id(op))
			fails("user 999 does not exist", newPW+"\n", "users", "set-password", "--id", "999")
			if got := printedIDOf(t, cli(newPW+"\n", "users", "set-password", "--id", id(op))); got != op {
				t.Fatalf("set-password printed %d", got)
			}
			applied()
			if valid, _ := env.Verify(t, access); valid {
				t.Error("a session from before set-password still verifies")
			}
			if got := ans(login("op@example.com", pw)); got != wrongLogin {
				t.Errorf("the old password after set-password: %+v", got)
			}
			env.Login(t, "op@example.com", newPW, "operator")

			// bind-event and unbind-event: the binding the next login carries.
			ev2 := env.Event(t, "Second")
			fails("event 999 does not exist", "", "users", "bind-event", "--id", id(op), "--event-id", "999")
			fails("user 999 does not exist", "", "users", "bind-event", "--id", "999", "--event-id", id(ev2))
			fails("--event-id is required", "", "users", "bind-event", "--id", id(op))
			cli("", "users", "bind-event", "--id", id(op), "--event-id", id(ev2))
			if got := jsonObjects(t, cli("", "users", "show", "--id", id(op))); got[0]["event_id"] != float64(ev2) {
				t.Errorf("after bind-event: %v", got)
			}
			a2, _ := env.Login(t, "op@example.com", newPW, "operator")
			if _, claims := env.Verify(t, a2); claims["event_id"] != float64(ev2) {
				t.Errorf("a login after bind-event carries %v", claims["event_id"])
			}
			cli("", "users", "unbind-event", "--id", id(op))
			if got := jsonObjects(t, cli("", "users", "show", "--id", id(op))); got[0]["event_id"] != nil {
				t.Errorf("after unbind-event: %v", got)
			}

			for _, cmd := range []string{"disable", "enable", "unbind-event"} {
				fails("user 999 does not exist", "", "users", cmd, "--id", "999")
				fails("--id is required", "", "users", cmd)
			}
		})
	}
}

// TestInventoryCommands: events list and devices list (archived included, by event), on both
// backends.
func TestInventoryCommands(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			conf := serverConfig(t, b, &testkit.Env{})
			must := func(args ...string) string {
				t.Helper()
				out, errOut, err := runCLIIn(t, conf, "", args...)
				if err != nil {
					t.Fatalf("%v: %v (%s)", args, err, errOut)
				}
				return out
			}
			if out := must("events", "list"); out != "" {
				t.Fatalf("events list of an empty database: %q", out)
			}
			ev1 := printedIDOf(t, must("events", "create", "--name", "Main stage"))
			ev2 := printedIDOf(t, must("events", "create", "--name", "Tab\there"))
			evs := jsonObjects(t, must("events", "list"))
			if len(evs) != 2 || evs[0]["id"] != float64(ev1) || evs[0]["name"] != "Main stage" || evs[1]["created_at"] == nil {
				t.Fatalf("events list: %v", evs)
			}
			table := must("events", "list", "-o", "table")
			if !strings.Contains(table, `"Main stage"`) || !strings.Contains(table, `"Tab\there"`) || strings.Count(table, "\n") != 3 {
				t.Errorf("events list -o table:\n%s", table)
			}

			d1 := printedIDOf(t, must("devices", "create", "--event-id", fmt.Sprint(ev1), "--mac", "02:00:00:00:00:41", "--name", "Bar"))
			d2 := printedIDOf(t, must("devices", "create", "--event-id", fmt.Sprint(ev2), "--mac", "02:00:00:00:00:42"))
			must("devices", "archive", "--id", fmt.Sprint(d1))
			ds := jsonObjects(t, must("devices", "list"))
			if len(ds) != 2 || ds[0]["id"] != float64(d1) || ds[0]["archived"] != true || ds[0]["mac"] != "02:00:00:00:00:41" ||
				ds[0]["operator_id"] != nil || ds[1]["id"] != float64(d2) || ds[1]["archived"] != false {
				t.Fatalf("devices list: %v", ds)
			}
			if got := jsonObjects(t, must("devices", "list", "--event-id", fmt.Sprint(ev2))); len(got) != 1 || got[0]["id"] != float64(d2) {
				t.Errorf("devices list --event-id %d: %v", ev2, got)
			}
			table = must("devices", "list", "-o", "table")
			if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, "02:00:00:00:00:41") || !strings.Contains(table, "true") {
				t.Errorf("devices list -o table:\n%s", table)
			}
		})
	}
}
