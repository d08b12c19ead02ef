package guest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/docs/example/guest"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// plugins is the catalogue with the example added, as its one line would add it.
func plugins() []core.Plugin { return append(modules.All(), guest.Plugin) }

func options(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: plugins(), Config: cfg}
}

func operations(t *testing.T, env *testkit.Env) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(env.Client.Do("GET", "/openapi.json", nil).Body, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ops := range doc.Paths {
		for _, op := range ops {
			ids = append(ids, op.OperationID)
		}
	}
	return ids
}

// TestAProviderIsOneFolder: the example module, mounted beside the catalogue's, serves its
// operation with its own validation, limit, config, table and identities, on both backends.
func TestAProviderIsOneFolder(t *testing.T) {
	testkit.ForEachBackend(t, options(map[string]any{
		"modules.guest.enabled":    true,
		"modules.guest.max_visits": 2,
	}), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		if !slices.Contains(operations(t, env), "login_guest_auth_login_guest_post") {
			t.Fatal("/openapi.json does not document the module's operation")
		}
		// The fragment's schema is the validation: pattern and enum, pydantic's answers.
		for body, loc := range map[string]string{
			`{"code":"abc","gate":"north"}`:            "code",
			`{"code":"ABCD1234","gate":"east"}`:        "gate",
			`{"code":"ABCD1234"}`:                      "gate",
			`{"code":"ABCD1234","gate":"north","x":1}`: "x",
		} {
			r := c.Do("POST", "/auth/login/guest", testkit.Raw(body))
			if r.Status != 422 || !strings.Contains(string(r.Body), `"`+loc+`"`) {
				t.Fatalf("%s: %d %s, want a 422 at %s", body, r.Status, r.Body, loc)
			}
		}
		login := func() *testkit.Response {
			return c.Do("POST", "/auth/login/guest", map[string]any{"code": "ABCD1234", "gate": "north"})
		}
		first, second := login(), login()
		if first.Status != 200 || second.Status != 200 {
			t.Fatalf("logins: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
		}
		if sub(t, env, first) != sub(t, env, second) {
			t.Fatal("one wristband signed in as two consumers")
		}
		if r := login(); r.Status != 401 {
			t.Fatalf("third login with max_visits 2: %d %s", r.Status, r.Body)
		}
		var consumer int64
		if _, err := fmt.Sscan(sub(t, env, first), &consumer); err != nil {
			t.Fatal(err)
		}
		if id, err := store.NewIdentities(env.DB).Consumer(t.Context(), "urn:example:wristband", "ABCD1234"); err != nil || id != consumer {
			t.Fatalf("identity linked to %d (%v), want %d", id, err, consumer)
		}
		var version int64
		if err := env.DB.X.GetContext(t.Context(), &version, `SELECT max(version_id) FROM goose_guest_version`); err != nil || version != 1 {
			t.Fatalf("the module's own version table: %d, %v", version, err)
		}
	})
}

func sub(t *testing.T, env *testkit.Env, r *testkit.Response) string {
	t.Helper()
	v := env.Client.Do("POST", "/tokens/verify", map[string]any{"token": r.JSON(t)["access_token"]}).JSON(t)
	claims, _ := v["claims"].(map[string]any)
	s, _ := claims["sub"].(string)
	if v["valid"] != true || s == "" {
		t.Fatalf("verify: %v", v)
	}
	return s
}

// TestSwitchedOffItLeavesNoTrace: disabled, the module has no route, no operation and no table.
func TestSwitchedOffItLeavesNoTrace(t *testing.T) {
	testkit.ForEachBackend(t, options(nil), func(t *testing.T, env *testkit.Env) {
		if r := env.Client.Do("POST", "/auth/login/guest", map[string]any{"code": "ABCD1234", "gate": "north"}); r.Status != 404 {
			t.Fatalf("disabled module's route: %d", r.Status)
		}
		if slices.Contains(operations(t, env), "login_guest_auth_login_guest_post") {
			t.Fatal("a disabled module's operation is documented")
		}
		var n int
		if err := env.DB.X.GetContext(t.Context(), &n, `SELECT count(*) FROM guest_visits`); err == nil {
			t.Fatal("a disabled module's migrations ran")
		}
	})
}

// TestItsConfigIsChecked: its section is strict and validated with everything else.
func TestItsConfigIsChecked(t *testing.T) {
	_, _, err := core.Load("", plugins(), map[string]any{
		"modules.guest.enabled":    true,
		"modules.guest.max_visits": 0,
		"modules.guest.max_visit":  5,
		"jwt.access_ttl":           "-1s",
	})
	for _, want := range []string{"modules.guest.max_visits: must be between 1 and 100", `"modules.guest.max_visit"`, "jwt.access_ttl"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q reported, got:\n%v", want, err)
		}
	}
}

// TestItsCommandRunsOnItsData: `guest visits` is the module's, migrates what it reads, and
// refuses while the module is off.
func TestItsCommandRunsOnItsData(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			run := func(enabled bool) (string, error) {
				conf := filepath.Join(t.TempDir(), "config.yaml")
				key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
				yaml := fmt.Sprintf("data:\n  dir: %q\ndatabase:\n  url: %q\nlog:\n  level: error\njwt:\n  secret: test-secret-test-secret-test-secret-0123\nsecrets:\n  encryption_key: %q\nmodules:\n  guest:\n    enabled: %v\n",
					b.DataDir, b.URL, key, enabled)
				if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				root := &cobra.Command{Use: "cashless-auth", SilenceUsage: true, SilenceErrors: true}
				core.NewCLI(&conf, plugins()).Mount(root)
				var out bytes.Buffer
				root.SetOut(&out)
				root.SetArgs([]string{"guest", "visits"})
				err := root.ExecuteContext(t.Context())
				return out.String(), err
			}
			if _, err := run(false); err == nil || !strings.Contains(err.Error(), "modules.guest.enabled") {
				t.Fatalf("disabled module's command: %v", err)
			}
			if out, err := run(true); err != nil || out != "" {
				t.Fatalf("first run: %q, %v", out, err)
			}
			db := storetest.Open(t, b)
			if _, err := db.X.ExecContext(t.Context(), `INSERT INTO guest_visits (code, gate, visits) VALUES ('ABCD1234', 'north', 2)`); err != nil {
				t.Fatal(err)
			}
			if out, err := run(true); err != nil || out != `{"code":"ABCD1234","gate":"north","visits":2}`+"\n" {
				t.Fatalf("listing: %q, %v", out, err)
			}
		})
	}
}

// TestAModuleMayNotAlterTheContract: a module whose fragment changes a contract schema (here the
// password lane's LoginRequest, redefined by a copy of this example) does not start.
func TestAModuleMayNotAlterTheContract(t *testing.T) {
	var frag map[string]any
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &frag); err != nil {
		t.Fatal(err)
	}
	frag["components"].(map[string]any)["schemas"].(map[string]any)["LoginRequest"] = map[string]any{
		"type": "object", "title": "LoginRequest", "properties": map[string]any{"email": map[string]any{"type": "string"}},
	}
	altered, err := json.Marshal(frag)
	if err != nil {
		t.Fatal(err)
	}
	rogue := guest.Plugin
	rogue.Name = "rogue"
	rogue.Module = fx.Module("rogue", core.OpenAPI("rogue", altered))
	v, _, err := core.Load("", append(modules.All(), rogue), map[string]any{"modules.rogue.enabled": true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.Document(v, append(modules.All(), rogue)); err == nil || !strings.Contains(err.Error(), "LoginRequest") {
		t.Fatalf("a module redefining a contract schema started: %v", err)
	}
}
