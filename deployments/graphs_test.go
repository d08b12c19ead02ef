package deployments

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.yaml.in/yaml/v3"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/deployments/chartconfig"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestTenantGraphs starts, for every file of deployments/tenants/, the real service (fx graph of
// modules.All(), PostgreSQL + Redis) on the config.yaml the chart renders for it, only the
// infrastructure pointed at this machine, and checks through HTTP what that tenant serves:
//
//   - /openapi.json lists exactly the operations of the lanes the tenant's switches (or the
//     catalogue's defaults) turn on, derived from the YAML and the modules' own fragments, not
//     from the loaded service, so a lane that its switch fails to register is caught;
//   - every listed operation is routed (an empty request is not answered 404/405), and every
//     operation of a lane that is off answers the router's 404 (405 where an enabled lane serves
//     the path with another method);
//   - every ratelimit.routes.* override of the tenant is the rule its route runs, and, on routes
//     reachable without credentials, refuses the request after the configured count.
func TestTenantGraphs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: each tenant's service runs on PostgreSQL + Redis with Mailpit and the Firebase Auth emulator; `make test` runs it")
	}
	catalogue := modules.All()
	lanes := laneOperations(t, catalogue)
	mail := testkit.NewMailpit(t)
	smtpHost, smtpPort := mail.HostPort(t)
	// Every probe is an empty request: one reaching the SMS provider got past validation.
	smsAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("an empty probe made the service send an SMS: %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"message":"stand-in"}`, http.StatusBadRequest)
	}))
	t.Cleanup(smsAPI.Close)

	for _, tenant := range tenantFiles(t) {
		t.Run(tenant, func(t *testing.T) {
			start := time.Now()
			rendered, err := chartconfig.Render("..", tenant)
			if err != nil {
				t.Fatal(err)
			}
			on := lanesOn(t, rendered, catalogue)

			infra := map[string]any{
				// The test plays the ingress: each check is its own client (X-Forwarded-For), so
				// the probes do not spend the buckets the limit checks count. The tenant's own
				// CIDR is checked by TestRenderedTenantConfigsLoad.
				"ratelimit.trusted_proxies":                 []string{"127.0.0.1/32"},
				"modules.password_reset.mail.provider":      "smtp",
				"modules.password_reset.mail.smtp.host":     smtpHost,
				"modules.password_reset.mail.smtp.port":     smtpPort,
				"modules.password_reset.mail.smtp.tls":      "none",
				"modules.password_reset.mail.smtp.username": "",
			}
			switch config.Lookup(rendered, "modules.phone_otp.sms.provider") {
			case "twilio":
				infra["modules.phone_otp.sms.twilio.base_url"] = smsAPI.URL
				infra["modules.phone_otp.sms.twilio.auth_token"] = "twilio-stand-in"
			case "webhook":
				infra["modules.phone_otp.sms.webhook.url"] = smsAPI.URL + "/webhook"
				infra["modules.phone_otp.sms.webhook.secret"] = "webhook-stand-in"
			}
			if on["firebase"] {
				if os.Getenv("CASHLESS_AUTH_TEST_FIREBASE") == "off" {
					// Switching the lane off would test another graph than the tenant's.
					t.Skip("CASHLESS_AUTH_TEST_FIREBASE=off: tenant " + tenant + " runs the Firebase lane")
				}
				if os.Getenv("FIREBASE_AUTH_EMULATOR_HOST") == "" {
					t.Fatal("tenant " + tenant + " runs the Firebase lane: set FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099 " +
						"(`bash scripts/services.sh firebase-emulator-start`; `make test` does both), or CASHLESS_AUTH_TEST_FIREBASE=off")
				}
				// The chart mounts the service account here; the emulator needs none.
				infra["modules.firebase.credentials_file"] = ""
				infra["modules.firebase.allow_emulator"] = true
			}
			if kid, _ := config.Lookup(rendered, "jwt.active_kid").(string); kid != "" {
				infra["jwt.keys_dir"] = testkit.StandInKeyring(t, kid) // the chart mounts the keyring Secret here
			}

			env := testkit.Start(t, postgres(t), testkit.Options{
				Plugins:    catalogue,
				ConfigFile: writeYAML(t, rendered),
				Config:     infra,
			})
			booted := time.Since(start)

			served := servedOperations(t, env)
			checkOperations(t, lanes, on, served)
			probeOperations(t, env, lanes, on, served)
			checkRouteLimits(t, env, rendered, on)
			t.Logf("tenant %s: %d operations served, lanes on: %s (booted in %s, checked in %s)",
				tenant, len(served), strings.Join(sortedTrue(on), ", "), booted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		})
	}
}

// operation is one documented method and path.
type operation struct {
	Method, Path, ID string
	Params           map[string]string // path parameter → schema type
}

func (o operation) key() string { return o.Method + " " + o.Path }

// laneOperations reads each module's own OpenAPI fragment from its fx module, whether or not
// any tenant enables it: the expectation must not depend on the switch logic under test.
func laneOperations(t *testing.T, catalogue []core.Plugin) map[string][]operation {
	t.Helper()
	out := map[string][]operation{}
	for _, p := range catalogue {
		var frags []openapi.Fragment
		app := fx.New(fx.NopLogger, p.Module, fx.Invoke(func(in fragmentsIn) { frags = in.Fragments }))
		if err := app.Err(); err != nil {
			t.Fatalf("module %s: read its OpenAPI fragment: %v", p.Name, err)
		}
		for _, f := range frags {
			out[p.Name] = append(out[p.Name], parseOperations(t, "module "+p.Name, f.JSON)...)
		}
	}
	return out
}

type fragmentsIn struct {
	fx.In
	Fragments []openapi.Fragment `group:"openapi"`
}

func parseOperations(t *testing.T, what string, doc []byte) []operation {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("%s: OpenAPI: %v", what, err)
	}
	var out []operation
	for path, methods := range d.Paths {
		for method, raw := range methods {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
			default:
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
				Parameters  []struct {
					Name   string `json:"name"`
					In     string `json:"in"`
					Schema struct {
						Type string `json:"type"`
					} `json:"schema"`
				} `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s: %s %s: %v", what, method, path, err)
			}
			o := operation{Method: strings.ToUpper(method), Path: path, ID: op.OperationID, Params: map[string]string{}}
			for _, p := range op.Parameters {
				if p.In == "path" {
					o.Params[p.Name] = p.Schema.Type
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// lanesOn is what the rendered config switches on: modules.<name>.enabled where it is set, the
// catalogue's default where not, always-on modules always.
func lanesOn(t *testing.T, rendered map[string]any, catalogue []core.Plugin) map[string]bool {
	t.Helper()
	on := map[string]bool{}
	for _, p := range catalogue {
		switch v := config.Lookup(rendered, core.SwitchKey(p.Name)).(type) {
		case nil:
			on[p.Name] = p.AlwaysOn || p.EnabledByDefault
		case bool:
			on[p.Name] = p.AlwaysOn || v
		default:
			t.Fatalf("%s is %v (%T), want true or false", core.SwitchKey(p.Name), v, v)
		}
	}
	return on
}

func servedOperations(t *testing.T, env *testkit.Env) map[string]operation {
	t.Helper()
	resp := env.Client.Do(http.MethodGet, "/openapi.json", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json → %d: %s", resp.Status, resp.Body)
	}
	out := map[string]operation{}
	for _, o := range parseOperations(t, "GET /openapi.json", resp.Body) {
		out[o.key()] = o
	}
	return out
}

// checkOperations: /openapi.json lists the enabled lanes' operations, each with its module's
// operationId, and nothing of the lanes that are off.
func checkOperations(t *testing.T, lanes map[string][]operation, on map[string]bool, served map[string]operation) {
	want := map[string]bool{}
	for lane, ops := range lanes {
		for _, o := range ops {
			got, listed := served[o.key()]
			switch {
			case on[lane] && !listed:
				t.Errorf("lane %s is on but /openapi.json lacks its operation %s (%s)", lane, o.key(), o.ID)
			case on[lane] && got.ID != o.ID:
				t.Errorf("/openapi.json lists %s as %q, module %s documents %q", o.key(), got.ID, lane, o.ID)
			case !on[lane] && listed:
				t.Errorf("lane %s is off but /openapi.json lists its operation %s", lane, o.key())
			}
			if on[lane] {
				want[o.key()] = true
			}
		}
	}
	for k := range served {
		if !want[k] {
			t.Errorf("/openapi.json lists %s, which no enabled lane documents", k)
		}
	}
}

// probeOperations sends each operation an empty request. An enabled one must reach its route
// (guards, limits or validation answer; the client checks the answer against the contract); a
// lane that is off must be unknown to the router.
func probeOperations(t *testing.T, env *testkit.Env, lanes map[string][]operation, on map[string]bool, served map[string]operation) {
	client := 0
	probe := func(o operation) *testkit.Response {
		client++
		return env.Client.Do(o.Method, concretePath(o), emptyBody(o.Method), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", client%250+1))
	}
	for _, key := range sortedKeys(served) {
		o := served[key]
		if r := probe(o); r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed {
			t.Errorf("%s is listed in /openapi.json but not routed: %s → %d %s", key, concretePath(o), r.Status, r.Body)
		}
	}
	for lane, ops := range lanes {
		if on[lane] {
			continue
		}
		for _, o := range ops {
			path := concretePath(o)
			want := http.StatusNotFound
			for _, s := range served {
				if matches(s.Path, path) {
					want = http.StatusMethodNotAllowed // the path is an enabled lane's, with another method
				}
			}
			r := probe(o)
			if r.Status != want {
				t.Errorf("lane %s is off but %s %s → %d %s, want %d", lane, o.Method, path, r.Status, r.Body, want)
			} else if want == http.StatusNotFound && o.Method != http.MethodHead && strings.TrimSpace(string(r.Body)) != `{"detail":"Not Found"}` {
				t.Errorf("lane %s is off: %s %s → 404 %s, want the router's {\"detail\":\"Not Found\"}", lane, o.Method, path, r.Body)
			}
		}
	}
}

// emptyBody is an empty JSON object where a body may go. (No body at all draws pydantic's
// "input": null, which the contract's 3.0 schema cannot express.)
func emptyBody(method string) any {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return map[string]any{}
	}
	return nil
}

// concretePath fills the path's parameters with values of their documented type.
func concretePath(o operation) string {
	path := o.Path
	for name, typ := range o.Params {
		v := "probe"
		if typ == "integer" || typ == "number" {
			v = "1"
		}
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	return path
}

// matches reports whether template (segments "{x}" match any one segment) matches path.
func matches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if ts[i] != ps[i] && !(strings.HasPrefix(ts[i], "{") && strings.HasSuffix(ts[i], "}")) {
			return false
		}
	}
	return true
}

// checkRouteLimits: each ratelimit.routes.<module>.<action> of the rendered config is the rule
// its route runs, and where no credential stands before the limiter, a client is refused once
// it has spent that many requests.
func checkRouteLimits(t *testing.T, env *testkit.Env, rendered map[string]any, on map[string]bool) {
	routes := map[string]*router.Compiled{}
	for _, c := range env.Server.Handler().Routes {
		routes[c.Name] = c
	}
	overrides, _ := config.Lookup(rendered, "ratelimit.routes").(map[string]any)
	client := 0
	for _, module := range sortedKeys(overrides) {
		actions, ok := overrides[module].(map[string]any)
		if !ok {
			t.Errorf("ratelimit.routes.%s = %v, want a map of action → rule", module, overrides[module])
			continue
		}
		for _, action := range sortedKeys(actions) {
			name := module + "." + action
			value := fmt.Sprint(actions[action])
			want, err := ratelimit.ParseRule(value)
			if err != nil {
				t.Errorf("ratelimit.routes.%s: %v", name, err)
				continue
			}
			c, served := routes[name]
			switch {
			case !served && on[module]:
				t.Errorf("ratelimit.routes.%s: lane %s is on but serves no route %s, so the limit does nothing", name, module, name)
				continue
			case !served:
				t.Logf("ratelimit.routes.%s: lane %s is off here", name, module)
				continue
			case c.Rule == nil || *c.Rule != want:
				t.Errorf("route %s runs limit %v, the tenant sets %q", name, c.Rule, value)
				continue
			case len(c.Guards) > 0:
				t.Logf("route %s runs %s (its guards answer before the limiter, so no HTTP check without credentials)", name, want)
				continue
			}
			client++
			ip := fmt.Sprintf("203.0.113.%d", client)
			path := concretePath(operation{Path: c.Path, Params: paramTypes(c.Path)})
			// GCRA refills one request every Period/Limit: a slow run may earn a few more.
			began := time.Now()
			allowed := 0
			for allowed <= 2*want.Limit {
				r := env.Client.Do(c.Method, path, emptyBody(c.Method), "X-Forwarded-For", ip)
				if r.Status == http.StatusTooManyRequests {
					break
				}
				allowed++
			}
			refill := int(time.Since(began)/(want.Period/time.Duration(want.Limit))) + 1
			if allowed < want.Limit || allowed > want.Limit+refill {
				t.Errorf("route %s (%s %s) allowed %d requests before its first 429; ratelimit.routes.%s = %q allows %d",
					name, c.Method, path, allowed, name, value, want.Limit)
			}
			def, _ := ratelimit.ParseRule(c.Route.Limit)
			t.Logf("route %s: %d requests allowed, then 429 (tenant %s, default %s)", name, allowed, want, def)
		}
	}
}

// paramTypes treats a route's path parameters as strings: a route's limit counts before its
// parameters are checked.
func paramTypes(path string) map[string]string {
	out := map[string]string{}
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out[strings.Trim(seg, "{}")] = "string"
		}
	}
	return out
}

// ---- writing the rendered config ---------------------------------------------------------------

func writeYAML(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// postgres is a fresh PostgreSQL database: the chart always runs PostgreSQL + Redis.
func postgres(t *testing.T) storetest.Backend {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		if b.Name == storetest.Postgres {
			return b
		}
	}
	t.Skipf("%s excludes the postgres backend, the only one the chart runs", storetest.EnvBackends)
	return storetest.Backend{}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedTrue(m map[string]bool) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}
