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

// Load reads configuration. path "" means DefaultFile if it exists (a missing default file
// means defaults only); an explicit path that does not exist is an error (and v nil). Keys
// that no default declares, and CASHLESS_AUTH_* variables that name none (a misspelt
// CASHLESS_AUTH_REDIS_ULR would otherwise be ignored without a word), are reported together
// in err, with v still returned so that the caller can add the value errors; keys under the
// dynamic prefixes (maps keyed by user-chosen names, such as per-route rate limits) are free.
func Load(path string, defaults []Defaults, dynamicPrefixes []string) (v *viper.Viper, err error) {
	v = viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	known := map[string]bool{}
	for _, d := range defaults {
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
			return nil, fmt.Errorf("config: read %s: %w", file, err)
		}
	}
	var unknown []string
	for _, k := range v.AllKeys() {
		if known[k] || hasPrefix(k, dynamicPrefixes) {
			continue
		}
		unknown = append(unknown, k)
	}
	sort.Strings(unknown)
	var errs []error
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("unknown config key %q", k))
	}
	errs = append(errs, unknownEnv(known, dynamicPrefixes)...)
	return v, errors.Join(errs...)
}

// unknownEnv reports the set CASHLESS_AUTH_* variables that name no key. Viper reads a variable
// only for a key it knows, so a misspelt one would be ignored without a word. Empty variables are
// skipped: they set nothing (viper ignores them), and tests clear the developer's that way.
func unknownEnv(known map[string]bool, dynamicPrefixes []string) []error {
	envName := func(key string) string { return strings.ToUpper(strings.ReplaceAll(key, ".", "_")) }
	names := map[string]bool{}
	for k := range known {
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

// Declared says whether key is one the defaults declare, or lies under a dynamic prefix: what
// Load accepts from a file, for keys set another way (overrides of tests and flags).
func Declared(defaults []Defaults, dynamicPrefixes []string, key string) bool {
	key = strings.ToLower(key)
	for _, d := range defaults {
		for k := range d {
			if strings.ToLower(k) == key {
				return true
			}
		}
	}
	return hasPrefix(key, dynamicPrefixes)
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
		for _, part := range strings.Split(key, ".") {
			m, _ := src.(map[string]any)
			src = m[part]
		}
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
