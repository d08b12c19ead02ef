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

// Load reads configuration. path "" means DefaultFile if it exists (a missing default file
// means defaults only); an explicit path that does not exist is an error. Keys that no
// default declares are reported together, except under the dynamic prefixes (maps keyed by
// user-chosen names, such as per-route rate limits).
func Load(path string, defaults []Defaults, dynamicPrefixes []string) (*viper.Viper, error) {
	v := viper.New()
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
	if len(unknown) > 0 {
		sort.Strings(unknown)
		errs := make([]error, len(unknown))
		for i, k := range unknown {
			errs[i] = fmt.Errorf("unknown config key %q", k)
		}
		return nil, errors.Join(errs...)
	}
	return v, nil
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
// durations ("15m") and comma-separated strings, and rejecting keys the struct does not name.
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
		ErrorUnused:      true,
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
