package upgrade

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/deployments/chartconfig"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestUpgradeFromLastRelease is the upgrade gate (docs/upgrading.md). For each scenario — today's
// config.yaml on the embedded backend and on PostgreSQL + Redis, and each tenant of
// deployments/tenants/ on PostgreSQL + Redis, as the chart runs them — it:
//
//  1. provisions state with the last release's binary, through its CLI and HTTP API, under the
//     config that release shipped (world.provision lists what);
//  2. starts the current binary on the same database, state store and config: it must start
//     with no error logged, and serve the same people into the same ids on every lane, the
//     outstanding tokens, keys and the pending reset token (world.checkUpgrade);
//  3. starts the current binary with today's config of the scenario, when it differs;
//  4. starts the release's binary again on the upgraded database (rollback) and checks what can
//     be checked twice (world.checkAgain).
func TestUpgradeFromLastRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the upgrade gate builds two binaries and needs PostgreSQL, Redis, Mailpit and the Firebase emulator")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	rel := lastRelease(t, root)
	requireCommit(t, root, rel)
	t.Logf("upgrade gate: %s (%s) -> the current tree", rel.Version, rel.Commit)

	peers := &peers{sms: newSMSSink(t), mail: testkit.NewMailpit(t), firebase: newEmulator(t)}
	bins := buildBoth(t, root, rel)

	scenarios := []scenario{
		{name: "config.yaml/embedded", backend: storetest.Embedded,
			oldConfig: readYAML(t, filepath.Join(bins.oldTree, "config.yaml")), newConfig: readYAML(t, filepath.Join(root, "config.yaml")),
			firebaseOn: true},
		{name: "config.yaml/postgres", backend: storetest.Postgres,
			oldConfig: readYAML(t, filepath.Join(bins.oldTree, "config.yaml")), newConfig: readYAML(t, filepath.Join(root, "config.yaml")),
			firebaseOn: true},
	}
	for _, tenant := range tenantNames(t, root) {
		sc := scenario{name: "tenant/" + tenant, backend: storetest.Postgres, newConfig: chartConfig(t, root, tenant)}
		if _, err := os.Stat(filepath.Join(bins.oldTree, "deployments", "tenants", tenant+".yaml")); err != nil {
			// A tenant added since the release has nothing to upgrade: it starts on today's config.
			t.Logf("tenant %s is not in %s: provisioned with %s under today's config", tenant, rel.Version, rel.Version)
			sc.oldConfig = sc.newConfig
		} else {
			sc.oldConfig = chartConfig(t, bins.oldTree, tenant)
		}
		scenarios = append(scenarios, sc)
	}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, bins, peers)
		})
	}
}

// peers are the third parties shared by every scenario.
type peers struct {
	sms      *smsSink
	mail     *testkit.Mailpit
	firebase *emulator
}

// scenario is one tenant's deployment: a backend and its config before and after the upgrade.
type scenario struct {
	name                 string
	backend              string // storetest.Embedded or storetest.Postgres
	oldConfig, newConfig map[string]any
	firebaseOn           bool // switch the Firebase lane on (it is off in config.yaml by default)
}

func (sc scenario) run(t *testing.T, bins binaries, p *peers) {
	var backend *storetest.Backend
	for _, b := range storetest.Backends(t) { // fails when PostgreSQL is unreachable
		if b.Name == sc.backend {
			backend = &b
		}
	}
	if backend == nil {
		t.Skipf("%s excludes the %s backend", storetest.EnvBackends, sc.backend)
	}
	work := t.TempDir()
	smtpHost, smtpPort := p.mail.HostPort(t)
	d := &deployment{work: work, sessionsSurviveRestart: sc.backend == storetest.Postgres}

	// Infrastructure that the scenario's config names for a cluster points at this machine's
	// programs instead, in the file itself as a tenant's own overrides would.
	infra := map[string]any{
		"data.dir":                                  filepath.Join(work, "data"),
		"log.format":                                "json",
		"log.level":                                 "info",
		"ratelimit.trusted_proxies":                 []any{"127.0.0.1/32"}, // each request plays its own client (X-Forwarded-For)
		"modules.password_reset.mail.provider":      "smtp",
		"modules.password_reset.mail.smtp.host":     smtpHost,
		"modules.password_reset.mail.smtp.port":     smtpPort,
		"modules.password_reset.mail.smtp.tls":      "none",
		"modules.password_reset.mail.smtp.username": "",
		"modules.password_reset.url_template":       resetLink + "{token}",
		"modules.firebase.project_id":               firebaseProject,
		"modules.firebase.allow_emulator":           true,
		"modules.firebase.credentials_file":         "",
		// The CI machine compiles and lints beside the tests: SCHED_IDLE hashing would starve.
		"password.sched_idle": false,
	}
	secrets := map[string]string{}
	switch {
	case p.firebase == nil:
		infra["modules.firebase.enabled"] = false
	case sc.firebaseOn:
		infra["modules.firebase.enabled"] = true
		fallthrough
	default:
		secrets["FIREBASE_AUTH_EMULATOR_HOST"] = p.firebase.host
	}
	if sc.backend == storetest.Postgres {
		rc := statetest.Client(t) // fails when Redis is unreachable
		secrets["CASHLESS_AUTH_DATABASE_URL"] = backend.URL
		secrets["CASHLESS_AUTH_REDIS_URL"] = statetest.RedisURL()
		secrets["CASHLESS_AUTH_JWT_SECRET"] = "upgrade-gate-secret-" + randomHex(16)
		secrets["CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString([]byte(randomHex(16)))
		infra["redis.prefix"] = statetest.Prefix(t, rc) // the tenant's own prefix would be shared by parallel runs
	}
	keyring := ""
	for _, cfg := range []map[string]any{sc.oldConfig, sc.newConfig} {
		if kid, _ := config.Lookup(cfg, "jwt.active_kid").(string); kid != "" && keyring == "" {
			keyring = testkit.StandInKeyring(t, kid) // the chart mounts the tenant's keyring Secret here
		}
	}
	if keyring != "" {
		infra["jwt.keys_dir"] = keyring
	}
	// The overlay names module keys as the binary reading the config knows them: the release's
	// config under their old, top-level names (the release rejects modules.<name>.* beyond the
	// switches; the current binary reads the old names with a warning), today's under the new.
	configFor := func(base map[string]any, oldNames bool) []byte {
		key := func(k string) string {
			if oldNames {
				return oldName(k)
			}
			return k
		}
		cfg := chartconfig.Merge(nil, base)
		for k, v := range infra {
			config.Set(cfg, key(k), v)
		}
		if provider, _ := config.Lookup(cfg, key("modules.phone_otp.sms.provider")).(string); provider == "twilio" {
			config.Set(cfg, key("modules.phone_otp.sms.twilio.base_url"), p.sms.srv.URL)
			// The chart feeds it from a Secret; in the file, it needs no variable name per release.
			config.Set(cfg, key("modules.phone_otp.sms.twilio.auth_token"), "twilio-stand-in")
		} else {
			config.Set(cfg, key("modules.phone_otp.sms.provider"), "webhook")
			config.Set(cfg, key("modules.phone_otp.sms.webhook.url"), p.sms.srv.URL+"/webhook")
		}
		b, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	oldYAML, newYAML := configFor(sc.oldConfig, true), configFor(sc.newConfig, false)
	d.env = testkit.ChildEnv(secrets)

	d.useConfig(t, oldYAML)
	w := &world{d: d, peers: p}
	run(t, bins.old, work, d.env, "", "migrate")
	w.provision(t, bins.old)

	t.Run("upgrade", func(t *testing.T) {
		w.phase(t, "current binary, the release's config", bins.cur, true, func(t *testing.T, a *api) {
			w.checkUpgrade(t, a)
			if w.on("/auth/login") {
				w.disableLeaver(t, bins.cur)
				w.checkLeaver(t, a)
			}
		})
	})
	if !bytes.Equal(oldYAML, newYAML) {
		t.Run("todays_config", func(t *testing.T) {
			d.useConfig(t, newYAML)
			w.phase(t, "current binary, today's config", bins.cur, true, func(t *testing.T, a *api) { w.checkAgain(t, a) })
			d.useConfig(t, oldYAML)
		})
	}
	t.Run("rollback", func(t *testing.T) {
		w.phase(t, "release binary on the upgraded database", bins.old, false, func(t *testing.T, a *api) { w.checkAgain(t, a) })
	})
}

// deployment is where a scenario's processes run: working directory (config.yaml, data/) and
// environment (the Secret-fed variables).
type deployment struct {
	work                   string
	env                    []string
	sessionsSurviveRestart bool // false on the embedded backend: its state store is in-process
}

func (d *deployment) useConfig(t *testing.T, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(d.work, "config.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// enabledPaths asks bin which operations the config enables (`cashless-auth openapi`).
func (d *deployment) enabledPaths(t *testing.T, bin string) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(run(t, bin, d.work, d.env, "", "openapi")), &doc); err != nil {
		t.Fatalf("%s openapi: %v", filepath.Base(bin), err)
	}
	out := map[string]bool{}
	for p := range doc.Paths {
		out[p] = true
	}
	return out
}

// ---- configs --------------------------------------------------------------------------------

// oldName is key under the old, top-level name its module declares (core.Plugin.Renames), or
// key itself.
func oldName(key string) string {
	for _, p := range modules.All() {
		for _, r := range p.Renames() {
			if rest, ok := strings.CutPrefix(key, r.New); ok && (rest == "" || rest[0] == '.') {
				return r.Old + rest
			}
		}
	}
	return key
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	m, err := chartconfig.ReadYAML(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tenantNames(t *testing.T, root string) []string {
	t.Helper()
	names, err := chartconfig.Tenants(root)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// chartConfig is the config.yaml the chart of tree renders for tenant.
func chartConfig(t *testing.T, tree, tenant string) map[string]any {
	t.Helper()
	m, err := chartconfig.Render(tree, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
