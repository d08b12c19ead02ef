// Package config loads cashless-auth's configuration: config.yaml (or --config PATH), then
// environment variables CASHLESS_AUTH_<KEY> with dots as underscores. Every key must have a
// registered default, so a misspelt key in a file is reported instead of silently ignored.
package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of environment overrides: CASHLESS_AUTH_DATABASE_URL sets database.url.
const EnvPrefix = "CASHLESS_AUTH"

// DefaultFile is read from the working directory when no --config is given.
const DefaultFile = "config.yaml"

// Defaults maps flattened keys ("server.addr") to their default values.
type Defaults map[string]any

// NonConfigEnv names the project's own CASHLESS_AUTH_* variables that are not configuration
// (scripts' and tests' settings), so Load does not report them: names after the prefix, exact or,
// ending in "_", as a prefix.
var NonConfigEnv = []string{
	"TEST_",                // test settings (core/testkit, storetest, statetest)
	"TOOLS", "EXTRA_TOOLS", // scripts/tools.sh: tool cache and extra tools
	"APT_LOCK_DIR",                                  // scripts/tools.sh
	"RENDERED_CONFIGS",                              // scripts/chart.sh → deployments tests
	"MAILPIT_HTTP", "MAILPIT_SMTP", "FIREBASE_AUTH", // scripts/services.sh addresses
	// Kubernetes service links: a Service named cashless-auth in the pod's namespace makes the
	// kubelet set CASHLESS_AUTH_SERVICE_HOST, CASHLESS_AUTH_PORT_8080_TCP and the like.
	"SERVICE_", "PORT", "PORT_",
}

// Schema is every key Load accepts and how old names map to new ones.
type Schema struct {
	Defaults []Defaults
	// Dynamic are prefixes of maps keyed by names the code cannot list in advance and reads
	// key by key (per-route rate limits): anything under them is accepted.
	Dynamic []string
	// Entries are the fields of maps keyed by user-chosen names whose entries have a fixed
	// shape, as keys with "*" for the name ("modules.oidc.providers.*.issuer"): a field of an
	// entry that no pattern names is reported like any unknown key.
	Entries []string
	// Renames are keys still read under an old name.
	Renames []Rename
}

// Load reads configuration. path "" means DefaultFile if it exists (a missing default file
// means defaults only); an explicit path that does not exist is an error (and v nil).
// overrides (tests, flags) win over the file and the environment. Keys the schema does not
// accept, and CASHLESS_AUTH_* variables that name none (a misspelt CASHLESS_AUTH_REDIS_ULR
// would otherwise be ignored without a word), are reported together in err, with v still
// returned so that the caller can add the value errors. A key set under an old name is copied
// to its new name unless that is set too, and listed in renamed for the caller to warn about.
func Load(path string, s Schema, overrides map[string]any) (v *viper.Viper, renamed []Renamed, err error) {
	v = viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	known := map[string]bool{}
	for _, d := range s.Defaults {
		for k, val := range d {
			v.SetDefault(k, val)
			known[strings.ToLower(k)] = true
		}
	}
	file := path
	if file == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			file = DefaultFile
		}
	}
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return nil, nil, fmt.Errorf("config: read %s: %w", file, err)
		}
	}
	set := setBy{v: v, overrides: map[string]bool{}}
	for k, val := range overrides {
		v.Set(k, val)
		set.overrides[strings.ToLower(k)] = true
	}
	accepted := func(k string) bool {
		return known[k] || hasPrefix(k, s.Dynamic) || matchesEntry(k, s.Entries)
	}
	var unknown []string
	for _, k := range v.AllKeys() {
		if accepted(k) {
			continue
		}
		if nk, ok := rename(k, s.Renames); ok && accepted(nk) {
			continue
		}
		unknown = append(unknown, k)
	}
	sort.Strings(unknown)
	var errs []error
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("unknown config key %q", k))
	}
	olds := oldNames(known, s.Renames)
	errs = append(errs, unknownEnv(known, olds, append(entryPrefixes(s.Entries), s.Dynamic...))...)
	renamed = applyRenames(v, set, s.Renames, accepted, append(v.AllKeys(), olds...))
	return v, renamed, errors.Join(errs...)
}

// envName is key's variable without the prefix: server.addr → SERVER_ADDR.
func envName(key string) string { return strings.ToUpper(strings.ReplaceAll(key, ".", "_")) }

// unknownEnv reports the set CASHLESS_AUTH_* variables that name no key, old names included. Viper reads a variable
// only for a key it knows, so a misspelt one would be ignored without a word. Empty variables are
// skipped: they set nothing (viper ignores them), and tests clear the developer's that way.
func unknownEnv(known map[string]bool, olds []string, dynamicPrefixes []string) []error {
	names := map[string]bool{}
	for k := range known {
		names[envName(k)] = true
	}
	for _, k := range olds {
		names[envName(k)] = true
	}
	var bad []string
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		rest, ok := strings.CutPrefix(name, EnvPrefix+"_")
		if !ok || val == "" || names[rest] || nonConfigEnv(rest) {
			continue
		}
		dynamic := false
		for _, p := range dynamicPrefixes {
			dynamic = dynamic || strings.HasPrefix(rest, envName(p))
		}
		if !dynamic {
			bad = append(bad, name)
		}
	}
	sort.Strings(bad)
	errs := make([]error, len(bad))
	for i, name := range bad {
		errs[i] = fmt.Errorf("unknown environment variable %s: it names no config key (CASHLESS_AUTH_ + the key in capitals, dots as underscores)", name)
	}
	return errs
}

func nonConfigEnv(rest string) bool {
	for _, n := range NonConfigEnv {
		if rest == n || strings.HasSuffix(n, "_") && strings.HasPrefix(rest, n) {
			return true
		}
	}
	return false
}

func hasPrefix(k string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// StringSlice reads a list that may come from YAML (a sequence) or from the environment
// (a comma-separated string, as NOTES.md pins), trimming blanks.
func StringSlice(v *viper.Viper, key string) []string {
	raw := v.Get(key)
	var items []string
	switch t := raw.(type) {
	case nil:
		return nil
	case string:
		items = strings.Split(t, ",")
	case []string:
		items = t
	case []any:
		for _, x := range t {
			items = append(items, fmt.Sprint(x))
		}
	default:
		items = v.GetStringSlice(key)
	}
	out := items[:0:0]
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Decode fills out (a struct with mapstructure tags) from the section under key, converting
// durations ("15m") and comma-separated strings. Keys the struct does not name are not its
// business: Load reports every key no default declares, and a decode failing on them here would
// hide the section's value errors behind that report (TestDefaultsAreFields keeps defaults and
// fields in step).
func Decode(v *viper.Viper, key string, out any) error {
	// AllSettings applies environment overrides key by key; v.Get(section) would not.
	var src any = v.AllSettings()
	if key != "" {
		src = Lookup(v.AllSettings(), key)
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		WeaklyTypedInput: true,
		TagName:          "mapstructure",
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
	})
	if err != nil {
		return err
	}
	if err := dec.Decode(src); err != nil {
		if key == "" {
			return fmt.Errorf("config: %w", err)
		}
		return fmt.Errorf("config %s: %w", key, err)
	}
	return nil
}
