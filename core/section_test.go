package core

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cashlessmedia/cashless-auth/config"
)

// lane is a module's section as a provider lane would declare it: plain keys, and providers
// keyed by names the operator chooses.
type lane struct {
	Timeout   time.Duration       `mapstructure:"timeout"`
	Realm     string              `mapstructure:"realm"`
	Providers map[string]provider `mapstructure:"providers"`
}

type provider struct {
	Issuer string   `mapstructure:"issuer"`
	Scopes []string `mapstructure:"scopes"`
}

func (l *lane) validate() error {
	var errs []error
	if l.Timeout > time.Minute {
		errs = append(errs, errors.New("timeout: at most 1m"))
	}
	for name, p := range l.Providers {
		if p.Issuer == "" {
			errs = append(errs, errors.New("providers."+name+".issuer: required"))
		}
	}
	return errors.Join(errs...)
}

func lanePlugin(enabled bool, module ...fx.Option) Plugin {
	return Plugin{
		Name:             "lane",
		EnabledByDefault: enabled,
		Config: NewSection(SectionSpec[lane]{
			Defaults: config.Defaults{"timeout": "10s", "realm": "main"},
			Entries:  map[string]config.Defaults{"providers": {"issuer": "", "scopes": []string{"openid"}}},
			Legacy:   []config.Rename{{Old: "lane", New: ""}},
			Validate: (*lane).validate,
		}),
		Module: fx.Module("lane", module...),
	}
}

// cleanEnv keeps the developer's CASHLESS_AUTH_* variables out of the test.
func cleanEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") && !strings.HasPrefix(k, config.EnvPrefix+"_TEST_") {
			t.Setenv(k, "")
		}
	}
}

// loadLane loads yaml with the plugin p, and its section when p is enabled.
func loadLane(t *testing.T, yaml string, p Plugin) (lane, config.Core, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	v, cfg, err := Load(file, []Plugin{p}, nil)
	if v == nil || err != nil || !p.Enabled(v) {
		return lane{}, cfg, err
	}
	l, lerr := p.Config.load(v, p.Name, true)
	if lerr != nil {
		t.Fatalf("Load accepted a section that does not load: %v", lerr)
	}
	return l.(lane), cfg, nil
}

func mustLoadLane(t *testing.T, yaml string) (lane, []config.Renamed) {
	t.Helper()
	l, cfg, err := loadLane(t, yaml, lanePlugin(true))
	if err != nil {
		t.Fatal(err)
	}
	return l, cfg.Renamed
}

func TestSectionReadsItsKeys(t *testing.T) {
	cleanEnv(t)
	l, renamed := mustLoadLane(t, "modules:\n  lane:\n    timeout: 20s\n")
	if l.Timeout != 20*time.Second || l.Realm != "main" || len(renamed) != 0 {
		t.Fatalf("got %+v, renamed %v", l, renamed)
	}
}

func TestSectionReadsOldKeysWithAWarning(t *testing.T) {
	cleanEnv(t)
	l, renamed := mustLoadLane(t, "lane:\n  timeout: 20s\n")
	if l.Timeout != 20*time.Second {
		t.Fatalf("old key not read: %+v", l)
	}
	if len(renamed) != 1 || renamed[0].Shadowed || renamed[0].Old != "lane.timeout" || renamed[0].New != "modules.lane.timeout" {
		t.Fatalf("renamed %+v", renamed)
	}
	if msg := renamed[0].Message(); !strings.Contains(msg, "lane.timeout is deprecated") || !strings.Contains(msg, "rename it to modules.lane.timeout") {
		t.Fatalf("warning %q", msg)
	}
}

func TestSectionNewKeyWinsOverOld(t *testing.T) {
	cleanEnv(t)
	l, renamed := mustLoadLane(t, "lane:\n  timeout: 20s\nmodules:\n  lane:\n    timeout: 30s\n")
	if l.Timeout != 30*time.Second {
		t.Fatalf("timeout %s, want the new key's 30s", l.Timeout)
	}
	if len(renamed) != 1 || !renamed[0].Shadowed {
		t.Fatalf("renamed %+v", renamed)
	}
	if msg := renamed[0].Message(); !strings.Contains(msg, "modules.lane.timeout wins and lane.timeout is ignored") {
		t.Fatalf("warning %q", msg)
	}
}

func TestSectionEnvironment(t *testing.T) {
	cleanEnv(t)
	t.Run("new", func(t *testing.T) {
		t.Setenv("CASHLESS_AUTH_MODULES_LANE_TIMEOUT", "20s")
		if l, renamed := mustLoadLane(t, ""); l.Timeout != 20*time.Second || len(renamed) != 0 {
			t.Fatalf("got %+v, renamed %v", l, renamed)
		}
	})
	t.Run("old", func(t *testing.T) {
		t.Setenv("CASHLESS_AUTH_LANE_TIMEOUT", "20s")
		l, renamed := mustLoadLane(t, "")
		if l.Timeout != 20*time.Second || len(renamed) != 1 || !renamed[0].Env {
			t.Fatalf("got %+v, renamed %+v", l, renamed)
		}
		if msg := renamed[0].Message(); !strings.Contains(msg, "CASHLESS_AUTH_LANE_TIMEOUT is deprecated") || !strings.Contains(msg, "CASHLESS_AUTH_MODULES_LANE_TIMEOUT") {
			t.Fatalf("warning %q", msg)
		}
	})
	t.Run("both", func(t *testing.T) {
		t.Setenv("CASHLESS_AUTH_LANE_TIMEOUT", "20s")
		t.Setenv("CASHLESS_AUTH_MODULES_LANE_TIMEOUT", "30s")
		if l, renamed := mustLoadLane(t, ""); l.Timeout != 30*time.Second || len(renamed) != 1 || !renamed[0].Shadowed {
			t.Fatalf("got %+v, renamed %+v", l, renamed)
		}
	})
	t.Run("old variable, new key in the file", func(t *testing.T) {
		t.Setenv("CASHLESS_AUTH_LANE_TIMEOUT", "20s")
		l, renamed := mustLoadLane(t, "modules:\n  lane:\n    timeout: 30s\n")
		if l.Timeout != 30*time.Second || len(renamed) != 1 {
			t.Fatalf("got %+v, renamed %+v", l, renamed)
		}
		if msg := renamed[0].Message(); !strings.Contains(msg, "CASHLESS_AUTH_LANE_TIMEOUT and modules.lane.timeout are both set: modules.lane.timeout wins") {
			t.Fatalf("warning %q", msg)
		}
	})
	t.Run("entry field", func(t *testing.T) {
		t.Setenv("CASHLESS_AUTH_MODULES_LANE_PROVIDERS_ACME_ISSUER", "https://acme.example")
		l, _ := mustLoadLane(t, "modules:\n  lane:\n    providers:\n      acme: {scopes: [email]}\n")
		if l.Providers["acme"].Issuer != "https://acme.example" {
			t.Fatalf("providers %+v", l.Providers)
		}
	})
}

// TestSectionEntries: the fields of entries keyed by user-chosen names are decoded strictly
// and get their defaults.
func TestSectionEntries(t *testing.T) {
	cleanEnv(t)
	l, _ := mustLoadLane(t, "modules:\n  lane:\n    providers:\n      acme: {issuer: https://acme.example}\n      other: {issuer: https://other.example, scopes: [openid, email]}\n")
	if got := l.Providers["acme"]; got.Issuer != "https://acme.example" || len(got.Scopes) != 1 || got.Scopes[0] != "openid" {
		t.Fatalf("acme %+v", got)
	}
	if got := l.Providers["other"].Scopes; len(got) != 2 {
		t.Fatalf("other's scopes %v", got)
	}
	_, _, err := loadLane(t, "modules:\n  lane:\n    providers:\n      acme: {issuer: https://acme.example, isuer: typo}\n      other: {scopes: [email]}\n", lanePlugin(true))
	for _, want := range []string{`unknown config key "modules.lane.providers.acme.isuer"`, "modules.lane.providers.other.issuer: required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}

// TestSectionErrorsTogether: an unknown key of a section comes with the value errors of the
// module, of the other modules and of the core, each under its full key.
func TestSectionErrorsTogether(t *testing.T) {
	cleanEnv(t)
	other := lanePlugin(true)
	other.Name = "other"
	file := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "log:\n  level: loud\nmodules:\n  lane:\n    timout: 1s\n    timeout: 2m\n  other:\n    timeout: soon\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(file, []Plugin{lanePlugin(true), other}, nil)
	for _, want := range []string{`unknown config key "modules.lane.timout"`, "modules.lane.timeout: at most 1m", "modules.other:", "log.level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}

// TestDisabledSection: a switched-off module's values are not checked, its unknown keys are.
func TestDisabledSection(t *testing.T) {
	cleanEnv(t)
	if _, _, err := loadLane(t, "modules:\n  lane:\n    timeout: 2m\n", lanePlugin(false)); err != nil {
		t.Fatalf("disabled module validated: %v", err)
	}
	if _, _, err := loadLane(t, "modules:\n  lane:\n    timout: 1s\n", lanePlugin(false)); err == nil || !strings.Contains(err.Error(), `unknown config key "modules.lane.timout"`) {
		t.Fatalf("unknown key of a disabled module: %v", err)
	}
	if _, _, err := loadLane(t, "lane:\n  timout: 1s\n", lanePlugin(false)); err == nil || !strings.Contains(err.Error(), `unknown config key "lane.timout"`) {
		t.Fatalf("unknown old key of a disabled module: %v", err)
	}
}

// TestDefaultsAreFields: a default that no field takes is a bug of the module, reported.
func TestSectionDefaultsAreFields(t *testing.T) {
	cleanEnv(t)
	p := lanePlugin(false)
	p.Config.defaults = config.Defaults{"timeout": "10s", "realm": "main", "retries": 3}
	if _, _, err := loadLane(t, "", p); err == nil || !strings.Contains(err.Error(), "defaults name no field of the module's config: retries") {
		t.Fatalf("err %v", err)
	}
}

// TestSectionIsPrivate: the module gets its section; the rest of the graph does not.
func TestSectionIsPrivate(t *testing.T) {
	cleanEnv(t)
	var got lane
	p := lanePlugin(true, fx.Invoke(func(l lane) { got = l }))
	v, _, err := Load("", []Plugin{p}, map[string]any{"modules.lane.realm": "events"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.New(fx.NopLogger, p.option(v)).Err(); err != nil || got.Realm != "events" {
		t.Fatalf("module: %+v, %v", got, err)
	}
	if err := fx.New(fx.NopLogger, p.option(v), fx.Invoke(func(lane) {})).Err(); err == nil {
		t.Fatal("the section reached outside its module")
	}
	if err := fx.New(fx.NopLogger, coreModule(v, config.Core{}), p.option(v), fx.Invoke(func(*viper.Viper) {})).Err(); err == nil {
		t.Fatal("the raw configuration reached outside the core")
	}
}

func TestWarnRenamed(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	WarnRenamed(zap.New(core), []config.Renamed{{Old: "sms.provider", New: "modules.phone_otp.sms.provider", Shadowed: true}})
	entries := logs.All()
	if len(entries) != 1 || entries[0].Level != zapcore.WarnLevel || !strings.Contains(entries[0].Message, "modules.phone_otp.sms.provider wins") {
		t.Fatalf("logged %+v", entries)
	}
}

// TestSwitchHasNoOldName: the old section's name covers the section's keys, not the switch.
func TestSwitchHasNoOldName(t *testing.T) {
	cleanEnv(t)
	if _, _, err := loadLane(t, "lane:\n  enabled: true\n", lanePlugin(false)); err == nil || !strings.Contains(err.Error(), `unknown config key "lane.enabled"`) {
		t.Fatalf("lane.enabled: %v", err)
	}
	for _, r := range lanePlugin(true).Renames() {
		if r.New == "modules.lane.enabled" {
			t.Fatalf("renames %+v", r)
		}
	}
}

// TestMostSpecificOldName: where two old sections map into one new section, a key's old name
// is the most specific: phone_otp.* and sms.* both move into modules.phone_otp.
func TestMostSpecificOldName(t *testing.T) {
	cleanEnv(t)
	p := lanePlugin(true)
	p.Config.defaults = config.Defaults{"timeout": "10s", "realm": "main", "sms.provider": "log"}
	p.Config.legacy = []config.Rename{{Old: "lane", New: ""}, {Old: "sms", New: "sms"}}
	olds := map[string]string{}
	for _, r := range p.Renames() {
		olds[r.New] = r.Old
	}
	if olds["modules.lane.sms.provider"] != "sms.provider" || olds["modules.lane.timeout"] != "lane.timeout" {
		t.Fatalf("old names %v", olds)
	}
	if _, _, err := loadLane(t, "lane:\n  sms:\n    provider: log\n", p); err == nil || !strings.Contains(err.Error(), `unknown config key "lane.sms.provider"`) {
		t.Fatalf("lane.sms.provider, a name the key never had: %v", err)
	}
}
