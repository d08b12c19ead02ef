package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// loadCore validates the core defaults with overrides, as `config-check` does.
func loadCore(t *testing.T, set map[string]any) (Core, error) {
	t.Helper()
	v, _, err := Load("", coreSchema, set)
	if err != nil {
		t.Fatal(err)
	}
	return LoadCore(v)
}

var coreSchema = Schema{Defaults: []Defaults{CoreDefaults}, Dynamic: DynamicPrefixes}

// TestOfflineSigningSettings: the settings of the switch to asymmetric offline tokens
// (docs/operations.md) say what is wrong with them.
func TestOfflineSigningSettings(t *testing.T) {
	pg := map[string]any{"database.url": "postgres://x@127.0.0.1/db", "secrets.encryption_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"jwt.keys_dir": "/keys", "jwt.active_kid": "k1"}
	for _, tc := range []struct {
		name string
		set  map[string]any
		want string // "" = valid
	}{
		{"default", nil, ""},
		{"hs256", map[string]any{"jwt.offline_signing": "hs256"}, ""},
		{"misspelt", map[string]any{"jwt.offline_signing": "ed25519"}, "jwt.offline_signing: must be asymmetric or hs256"},
		{"hs256 without a secret", merge(pg, map[string]any{"jwt.offline_signing": "hs256"}), "jwt.offline_signing: hs256 needs jwt.secret"},
		{"hs256_until", map[string]any{"jwt.hs256_until": "2026-12-09T06:00:00Z"}, ""},
		{"hs256_until not RFC 3339", map[string]any{"jwt.hs256_until": "next week"}, "jwt.hs256_until: must be an RFC 3339 time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadCore(t, tc.set)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if u, _ := tc.set["jwt.hs256_until"].(string); tc.want == "" && u != "" && !c.JWT.HS256UntilTime().Equal(time.Date(2026, 12, 9, 6, 0, 0, 0, time.UTC)) {
				t.Fatalf("hs256_until read as %v", c.JWT.HS256UntilTime())
			}
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestHeaderCapSetting: the header cap stays within what Go's server can honour and an attack
// cannot turn into memory.
func TestHeaderCapSetting(t *testing.T) {
	if c, err := loadCore(t, nil); err != nil || c.Server.MaxHeaderBytes != 16384 {
		t.Fatalf("default: %d, %v; want 16384", c.Server.MaxHeaderBytes, err)
	}
	for _, bad := range []int{0, 1024, 2 << 20} {
		if _, err := loadCore(t, map[string]any{"server.max_header_bytes": bad}); err == nil || !strings.Contains(err.Error(), "server.max_header_bytes: must be between 4096 and 1048576") {
			t.Errorf("max_header_bytes %d: %v", bad, err)
		}
	}
}

// TestRefreshReuseGraceSetting: the grace is off by default and bounded, since a thief replaying
// within it gets the pair the client got.
func TestRefreshReuseGraceSetting(t *testing.T) {
	if c, err := loadCore(t, nil); err != nil || c.JWT.RefreshReuseGrace != 0 {
		t.Fatalf("default: %v, %v; want 0 (off)", c.JWT.RefreshReuseGrace, err)
	}
	if c, err := loadCore(t, map[string]any{"jwt.refresh_reuse_grace": "1m"}); err != nil || c.JWT.RefreshReuseGrace != time.Minute {
		t.Fatalf("1m: %v, %v", c.JWT.RefreshReuseGrace, err)
	}
	for _, bad := range []string{"-1s", "61s", "1h"} {
		if _, err := loadCore(t, map[string]any{"jwt.refresh_reuse_grace": bad}); err == nil || !strings.Contains(err.Error(), "jwt.refresh_reuse_grace: must be between 0s (off) and 1m") {
			t.Errorf("refresh_reuse_grace %s: %v", bad, err)
		}
	}
}

// TestUnknownEnvironmentVariables: a CASHLESS_AUTH_* variable that names no key is reported
// (viper would ignore it without a word); keys, per-route limits, the project's own non-config
// variables and empty variables are not.
func TestUnknownEnvironmentVariables(t *testing.T) {
	for name, val := range map[string]string{
		"CASHLESS_AUTH_REDIS_URL":                       "redis://127.0.0.1:6379/0",
		"CASHLESS_AUTH_RATELIMIT_ROUTES_PASSWORD_LOGIN": "20/minute",
		"CASHLESS_AUTH_TOOLS":                           "/tmp/tools",
		"CASHLESS_AUTH_TEST_BACKENDS":                   "embedded",
		"CASHLESS_AUTH_JWT_SCERET":                      "",
		"CASHLESS_AUTH_REDIS_ULR":                       "redis://typo",
		"CASHLESS_AUTH_SERVER":                          "x",
		"CASHLESS_AUTH_SERVICE_HOST":                    "10.0.0.1", // Kubernetes service links
		"CASHLESS_AUTH_PORT":                            "tcp://10.0.0.1:80",
		"CASHLESS_AUTH_PORT_80_TCP_ADDR":                "10.0.0.1",
	} {
		t.Setenv(name, val)
	}
	_, _, err := Load("", coreSchema, nil)
	if err == nil {
		t.Fatal("misspelt variables accepted")
	}
	got := err.Error()
	for _, want := range []string{"unknown environment variable CASHLESS_AUTH_REDIS_ULR", "unknown environment variable CASHLESS_AUTH_SERVER:"} {
		if !strings.Contains(got, want) {
			t.Errorf("error %q does not say %q", got, want)
		}
	}
	for _, fine := range []string{"REDIS_URL", "RATELIMIT_ROUTES", "CASHLESS_AUTH_TOOLS", "TEST_BACKENDS", "JWT_SCERET", "SERVICE_HOST", "CASHLESS_AUTH_PORT"} {
		if strings.Contains(got, fine) {
			t.Errorf("error %q reports %s", got, fine)
		}
	}
}

// TestUnknownKeysDoNotHideValueErrors: an operator fixing a config gets every problem at once:
// the unknown key of a section and the bad values of that section and others.
func TestUnknownKeysDoNotHideValueErrors(t *testing.T) {
	file := t.TempDir() + "/c.yaml"
	if err := os.WriteFile(file, []byte("server:\n  adr: \":1\"\n  max_header_bytes: 10\nlog:\n  level: loud\npassword:\n  argon2_time: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, _, err := Load(file, coreSchema, nil)
	if v == nil {
		t.Fatalf("no configuration to validate: %v", err)
	}
	_, verr := LoadCore(v)
	all := errors.Join(err, verr).Error()
	for _, want := range []string{`unknown config key "server.adr"`, "server.max_header_bytes", "log.level", "password.argon2_*"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors %q do not name %s", all, want)
		}
	}
}

// TestDefaultsAreFields: every core default is a field of its section's struct. Decode leaves
// unknown keys to Load's report, so a default without a field would otherwise be dropped.
func TestDefaultsAreFields(t *testing.T) {
	v, _, err := Load("", coreSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c Core
	for key, target := range map[string]any{"server": &c.Server, "log": &c.Log, "data": &c.Data, "database": &c.Database,
		"redis": &c.Redis, "jwt": &c.JWT, "secrets": &c.Secrets, "ratelimit": &c.RateLimit, "password": &c.Password, "bootstrap": &c.Bootstrap, "mfa": &c.MFA} {
		var md mapstructure.Metadata
		dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: target, Metadata: &md, WeaklyTypedInput: true,
			DecodeHook: mapstructure.StringToTimeDurationHookFunc()})
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(v.AllSettings()[key]); err != nil {
			t.Errorf("%s: %v", key, err)
		}
		if len(md.Unused) > 0 {
			t.Errorf("defaults of %s name no field: %v", key, md.Unused)
		}
	}
}
