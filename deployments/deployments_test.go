package deployments

import (
	"bufio"
	"encoding/base64"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// RenderedConfigsEnv names the directory `scripts/chart.sh check` fills with one
// <tenant>/config.yaml (the config.yaml of the tenant's rendered ConfigMap) and
// <tenant>/secret-env.txt (the CASHLESS_AUTH_* variables the Deployment reads from Secrets).
const RenderedConfigsEnv = "CASHLESS_AUTH_RENDERED_CONFIGS"

const (
	chartDir   = "helm/cashless-auth"
	tenantsDir = "tenants"
)

// secretEnv maps every variable the chart may feed from a Secret to its config key and a
// stand-in for the value the Secret holds in the cluster. A variable the chart renders that
// is missing here fails the test: add it here (and to docs/operations.md) when the chart
// learns a new secret.
var secretEnv = map[string]struct{ key, value string }{
	"CASHLESS_AUTH_DATABASE_URL":                              {"database.url", "postgres://auth:s3cret@postgres.tenant.svc:5432/auth?sslmode=require"},
	"CASHLESS_AUTH_REDIS_URL":                                 {"redis.url", "redis://:s3cret@redis.tenant.svc:6379/0"},
	"CASHLESS_AUTH_JWT_SECRET":                                {"jwt.secret", "test-jwt-secret-0123456789abcdef0123456789abcdef"},
	"CASHLESS_AUTH_SECRETS_ENCRYPTION_KEY":                    {"secrets.encryption_key", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))},
	"CASHLESS_AUTH_MODULES_PASSWORD_RESET_MAIL_SMTP_PASSWORD": {"modules.password_reset.mail.smtp.password", "smtp-s3cret"},
	"CASHLESS_AUTH_MODULES_PHONE_OTP_SMS_WEBHOOK_SECRET":      {"modules.phone_otp.sms.webhook.secret", "webhook-s3cret"},
	"CASHLESS_AUTH_MODULES_PHONE_OTP_SMS_TWILIO_AUTH_TOKEN":   {"modules.phone_otp.sms.twilio.auth_token", "twilio-s3cret"},
	"CASHLESS_AUTH_BOOTSTRAP_ADMIN_EMAIL":                     {"bootstrap.admin_email", "admin@tenant.example"},
	"CASHLESS_AUTH_BOOTSTRAP_ADMIN_PASSWORD":                  {"bootstrap.admin_password", "change-me-now"},
}

// TestRenderedTenantConfigsLoad loads each tenant's config.yaml, as the chart renders it into
// the ConfigMap, with cashless-auth's own loader (core.Load over every compiled module, the
// way `serve`, `migrate` and `config-check` do), the Secret-fed variables supplied as
// overrides. It then checks that the modules running are exactly the ones the tenant's values
// file enables: a module a tenant does not switch on must stay off, even when the binary
// enables it by default.
func TestRenderedTenantConfigsLoad(t *testing.T) {
	dir := os.Getenv(RenderedConfigsEnv)
	if dir == "" {
		t.Skip(RenderedConfigsEnv + " is unset: this test loads the configs rendered by the Helm chart, so it runs " +
			"from `scripts/chart.sh check` (`make chart-check`, part of `make test`), which renders them and sets it")
	}
	// The pod's environment is the chart's env only: drop whatever this shell sets.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "CASHLESS_AUTH_") && name != RenderedConfigsEnv {
			t.Setenv(name, "")
		}
	}
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "")

	tenants := tenantFiles(t)
	for _, tenant := range tenants {
		t.Run(tenant, func(t *testing.T) {
			path := filepath.Join(dir, tenant, "config.yaml")
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("no rendered config for tenant %s: %v (scripts/chart.sh check renders every %s/*.yaml)", tenant, err, tenantsDir)
			}
			values := readYAML(t, filepath.Join(tenantsDir, tenant+".yaml"))
			rendered := readYAML(t, path)

			overrides := map[string]any{}
			for _, env := range secretEnvNames(t, filepath.Join(dir, tenant, "secret-env.txt")) {
				s, ok := secretEnv[env]
				if !ok {
					t.Errorf("the chart feeds %s from a Secret but this test does not know its config key: add it to secretEnv", env)
					continue
				}
				overrides[s.key] = s.value
			}
			for _, required := range []string{"database.url", "redis.url", "jwt.secret", "secrets.encryption_key"} {
				if _, ok := overrides[required]; !ok {
					t.Errorf("the Deployment does not read %s from a Secret", required)
				}
			}
			// The chart mounts the Firebase service account from a Secret at this path; the
			// loader opens it, so point it at a stand-in file.
			if f := rendered.GetString("modules.firebase.credentials_file"); f != "" {
				if !strings.HasPrefix(f, "/var/run/secrets/") {
					t.Errorf("modules.firebase.credentials_file = %q, want the chart's Secret mount under /var/run/secrets/", f)
				}
				stand := filepath.Join(t.TempDir(), "credentials.json")
				if err := os.WriteFile(stand, []byte(`{"type":"service_account","project_id":"test"}`), 0o600); err != nil {
					t.Fatal(err)
				}
				overrides["modules.firebase.credentials_file"] = stand
			}

			// The keyring Secret is mounted as a directory at jwt.keys_dir: stand in a keyring
			// holding the active kid's signing key.
			if values.GetString("secrets.jwtKeys.secret") != "" && rendered.GetString("jwt.keys_dir") == "" {
				t.Errorf("tenant %s names a keyring Secret but the rendered config has no jwt.keys_dir", tenant)
			}
			if d := rendered.GetString("jwt.keys_dir"); d != "" {
				if !strings.HasPrefix(d, "/var/run/secrets/") {
					t.Errorf("jwt.keys_dir = %q, want the chart's Secret mount under /var/run/secrets/", d)
				}
				kid := rendered.GetString("jwt.active_kid")
				if kid == "" {
					t.Errorf("jwt.keys_dir is set but jwt.active_kid is not")
				}
				overrides["jwt.keys_dir"] = testkit.StandInKeyring(t, kid)
			}

			v, cfg, err := core.Load(path, modules.All(), overrides)
			if err != nil {
				t.Fatalf("tenant %s: the rendered config does not load:\n%v\n--- %s\n%s", tenant, err, path, mustRead(t, path))
			}
			for _, r := range cfg.Renamed {
				t.Errorf("tenant %s: %s (the chart and tenant files use the current names)", tenant, r.Message())
			}

			if !cfg.UsesPostgres() || cfg.Redis.URL == "" {
				t.Errorf("tenant %s runs database %q, redis %q: the chart must run PostgreSQL and Redis", tenant, cfg.Database.URL, cfg.Redis.URL)
			}
			if want := values.GetString("config.redis.prefix"); want == "" || cfg.Redis.Prefix != want {
				t.Errorf("redis.prefix = %q, tenant file sets %q (every tenant needs its own prefix)", cfg.Redis.Prefix, want)
			}
			if want := values.GetStringSlice("config.ratelimit.trusted_proxies"); len(want) == 0 || !slices.Equal(cfg.RateLimit.TrustedProxies, want) {
				t.Errorf("ratelimit.trusted_proxies = %v, tenant file sets %v (the ingress pods' CIDR)", cfg.RateLimit.TrustedProxies, want)
			}
			if cfg.Server.Addr == "" || !strings.HasPrefix(cfg.Server.Addr, ":") {
				t.Errorf("server.addr = %q, want \":<containerPort>\" set by the chart", cfg.Server.Addr)
			}

			want := enabledIn(values)
			known := map[string]bool{}
			var got []string
			for _, p := range modules.All() {
				if p.AlwaysOn {
					continue
				}
				known[p.Name] = true
				on := p.Enabled(v)
				if on {
					got = append(got, p.Name)
				}
				switch {
				case on && !want[p.Name]:
					t.Errorf("module %s runs for tenant %s although %s does not enable it "+
						"(a module enabled by default? switch it off in %s/values.yaml config.modules)",
						p.Name, tenant, filepath.Join(tenantsDir, tenant+".yaml"), chartDir)
				case !on && want[p.Name]:
					t.Errorf("module %s is off for tenant %s although its values file enables it", p.Name, tenant)
				}
			}
			for name, on := range want {
				if on && !known[name] {
					t.Errorf("tenant %s enables module %s, which this binary does not have", tenant, name)
				}
			}
			sort.Strings(got)
			t.Logf("tenant %s loads; modules on: %s", tenant, strings.Join(got, ", "))
		})
	}
}

// TestChartSwitchesEveryModule: the chart's default values switch every module off, so a
// tenant runs only the lanes its values file names. Adding a module means adding its
// `config.modules.<name>.enabled: false` line to the chart's values.yaml (docs/architecture.md).
func TestChartSwitchesEveryModule(t *testing.T) {
	values := readYAML(t, filepath.Join(chartDir, "values.yaml"))
	listed := map[string]bool{}
	for name := range values.GetStringMap("config.modules") {
		listed[name] = true
	}
	for _, p := range modules.All() {
		if p.AlwaysOn {
			if listed[p.Name] {
				t.Errorf("values.yaml switches module %s, which is always on and has no switch", p.Name)
			}
			delete(listed, p.Name)
			continue
		}
		key := "config." + core.SwitchKey(p.Name)
		if !values.IsSet(key) {
			t.Errorf("%s/values.yaml: add `%s: false` under config.modules (module %s is compiled in; the binary "+
				"enables it by default = %v, and a tenant must opt in)", chartDir, p.Name+".enabled", p.Name, p.EnabledByDefault)
		} else if values.GetBool(key) {
			t.Errorf("%s/values.yaml: %s is true; chart defaults are off so that tenants opt in", chartDir, key)
		}
		delete(listed, p.Name)
	}
	for name := range listed {
		t.Errorf("%s/values.yaml switches module %s, which is not in modules.All() (renamed or removed?)", chartDir, name)
	}
	for _, tenant := range tenantFiles(t) {
		if len(enabledIn(readYAML(t, filepath.Join(tenantsDir, tenant+".yaml")))) == 0 {
			t.Errorf("tenant %s enables no module", tenant)
		}
	}
}

// TestDockerfile checks what a build without Docker cannot: the image is built by the Go
// version go.mod names, stamps variables that exist, and runs distroless as non-root.
func TestDockerfile(t *testing.T) {
	lines := dockerLines(t, "Dockerfile")
	text := strings.Join(lines, "\n")

	var froms []string
	for _, l := range lines {
		if f, ok := strings.CutPrefix(l, "FROM "); ok {
			froms = append(froms, f)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, got FROM lines %q", froms)
	}
	if final := froms[len(froms)-1]; final != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final stage FROM %q, want gcr.io/distroless/static-debian12:nonroot", final)
	}
	goMod := mustRead(t, "../go.mod")
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	if !strings.Contains(text, "ARG GO_VERSION="+m[1]+"\n") || !strings.Contains(froms[0], "golang:${GO_VERSION}") {
		t.Errorf("the build stage must use golang:%s (go.mod's go %s) through ARG GO_VERSION", m[1], m[1])
	}
	for _, want := range []string{
		"CGO_ENABLED=0", "-trimpath", "./cmd/cashless-auth",
		"USER 65532:65532", "EXPOSE 8080", `ENTRYPOINT ["/cashless-auth"]`, `CMD ["serve"]`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// -X main.<name>=… silently does nothing when main.<name> does not exist.
	stamped := regexp.MustCompile(`-X main\.(\w+)=`).FindAllStringSubmatch(text, -1)
	if len(stamped) == 0 {
		t.Error("Dockerfile stamps no version (-ldflags -X main.version=…)")
	}
	vars := mainStringVars(t, "../cmd/cashless-auth")
	for _, s := range stamped {
		if !vars[s[1]] {
			t.Errorf("Dockerfile stamps main.%s, but cmd/cashless-auth has no package-level string variable %s", s[1], s[1])
		}
	}

	// The build context must keep every directory the binary is built from.
	ignored := map[string]bool{}
	for _, l := range strings.Split(mustRead(t, "../.dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignored[strings.Trim(l, "/")] = true
		}
	}
	for _, f := range []string{"go.mod", "go.sum", "cmd", "config", "core", "modules", "docs"} {
		if ignored[f] {
			t.Errorf(".dockerignore excludes %s, which the build needs", f)
		}
	}
}

// ---- helpers --------------------------------------------------------------------------------

func tenantFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(tenantsDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tenant values files in %s (%v)", tenantsDir, err)
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimSuffix(filepath.Base(f), ".yaml")
	}
	return out
}

func readYAML(t *testing.T, path string) *viper.Viper {
	t.Helper()
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return v
}

// enabledIn lists the modules a values file switches on (config.modules.<name>.enabled).
func enabledIn(values *viper.Viper) map[string]bool {
	out := map[string]bool{}
	for name := range values.GetStringMap("config.modules") {
		if values.GetBool("config." + core.SwitchKey(name)) {
			out[name] = true
		}
	}
	return out
}

func secretEnvNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (scripts/chart.sh check writes it next to config.yaml)", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerLines returns the Dockerfile's instructions, continuation lines joined, comments and
// blank lines dropped.
func dockerLines(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(mustRead(t, path), "\n") {
		trimmed := strings.TrimSpace(l)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if c, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(c + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, strings.Join(strings.Fields(cur.String()), " "))
		cur.Reset()
	}
	return out
}

// mainStringVars lists the package-level variables of package main in dir.
func mainStringVars(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					// -X sets only string variables initialised by a constant (or not at all).
					if vs.Type != nil {
						if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "string" {
							continue
						}
					} else if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
							continue
						}
					}
					vars[n.Name] = true
				}
			}
		}
	}
	if len(vars) == 0 {
		t.Fatalf("no package-level variables in %s", dir)
	}
	return vars
}
