package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
)

// SectionSpec declares a module's configuration, modules.<name>.*, decoded into T. Keys are
// relative to the section: "timeout", "smtp.port".
type SectionSpec[T any] struct {
	// Defaults name every key of the section with its default; a key of the section that
	// none names is reported as unknown, whether or not the module is enabled.
	Defaults config.Defaults
	// Entries are the parts of the section that are maps keyed by names the operator chooses
	// ("providers": modules.oidc.providers.<name>.*), each with the defaults of one entry's
	// fields. A field of an entry that the defaults do not name is reported as unknown.
	// Entries are read from the file; the environment can set the fields of an entry the file
	// names (CASHLESS_AUTH_MODULES_OIDC_PROVIDERS_<NAME>_ISSUER), not add entries.
	Entries map[string]config.Defaults
	// Legacy are the section's keys under their old, top-level names: Old an absolute key or
	// section ("sms"), New relative to this section ("sms"; "" for the section itself). They
	// are read, with a warning, until the next major version.
	Legacy []config.Rename
	// Validate checks (and may normalise) the decoded section when the module is enabled,
	// before anything starts; it joins every problem, each starting with its key relative to
	// the section, so that the core can name it in full. Optional.
	Validate func(*T) error
}

// Section is a module's typed configuration (Plugin.Config), built by NewSection: the core
// registers its defaults and old names, decodes and validates it for an enabled module with
// every other problem of the configuration, and provides the T privately to the module's
// fx.Module, so a module sees its own section and nothing else.
type Section struct {
	defaults config.Defaults
	entries  map[string]config.Defaults
	legacy   []config.Rename
	// decode builds the T from the section's settings (filling md when not nil), validates it
	// if asked, and boxes it.
	decode func(raw map[string]any, validate bool, md *mapstructure.Metadata) (any, error)
	// provide is the fx option giving the T that get returns, privately.
	provide func(get func() (any, error)) fx.Option
}

// NewSection is the Section of spec.
func NewSection[T any](spec SectionSpec[T]) *Section {
	return &Section{
		defaults: spec.Defaults,
		entries:  spec.Entries,
		legacy:   spec.Legacy,
		decode: func(raw map[string]any, validate bool, md *mapstructure.Metadata) (any, error) {
			var t T
			if err := decodeWith(raw, &t, md); err != nil {
				return t, decodeError{err}
			}
			if validate && spec.Validate != nil {
				if err := spec.Validate(&t); err != nil {
					return t, err
				}
			}
			return t, nil
		},
		provide: func(get func() (any, error)) fx.Option {
			return fx.Provide(fx.Private, func() (T, error) {
				t, err := get()
				if err != nil {
					var zero T
					return zero, err
				}
				return t.(T), nil
			})
		},
	}
}

// sectionKey is the absolute key of rel in module name's section.
func sectionKey(name, rel string) string {
	if rel == "" {
		return "modules." + name
	}
	return "modules." + name + "." + rel
}

// schema adds the section's keys, entry patterns and old names to s.
func (sec *Section) schema(name string, s *config.Schema) {
	d := config.Defaults{}
	for k, val := range sec.defaults {
		d[sectionKey(name, k)] = val
	}
	s.Defaults = append(s.Defaults, d)
	for part, fields := range sec.entries {
		for f := range fields {
			s.Entries = append(s.Entries, sectionKey(name, part)+".*."+f)
		}
	}
	// One rename per key rather than per section: the switch (modules.<name>.enabled) has no
	// old name, and an old name that no key of the section had stays unknown.
	rels := []string{}
	for k := range sec.defaults {
		rels = append(rels, k)
	}
	for part := range sec.entries {
		rels = append(rels, part)
	}
	for _, rel := range rels {
		if old, ok := sec.oldName(rel); ok {
			s.Renames = append(s.Renames, config.Rename{Old: old, New: sectionKey(name, rel)})
		}
	}
}

// oldName is the old name of the section's key rel, by the most specific legacy entry covering
// it: with phone_otp → "" and sms → "sms", sms.provider was sms.provider, never
// phone_otp.sms.provider.
func (sec *Section) oldName(rel string) (string, bool) {
	best, found, depth := "", false, -1
	for _, r := range sec.legacy {
		switch rest, ok := strings.CutPrefix(rel, r.New); {
		case r.New == "" && depth < 0:
			best, found, depth = r.Old+"."+rel, true, 0
		case r.New != "" && ok && (rest == "" || rest[0] == '.') && len(r.New) > depth:
			best, found, depth = r.Old+rest, true, len(r.New)
		}
	}
	return best, found
}

// load decodes module name's section from v, validated when validate is set. Every error
// names its key in full.
func (sec *Section) load(v *viper.Viper, name string, validate bool) (any, error) {
	t, err := sec.decode(sec.raw(v, name), validate, nil)
	if err == nil {
		return t, nil
	}
	if errors.As(err, new(decodeError)) {
		return t, fmt.Errorf("%s: %w", sectionKey(name, ""), err)
	}
	var errs []error
	for _, e := range flatten(err) {
		errs = append(errs, fmt.Errorf("%s.%w", sectionKey(name, ""), e))
	}
	return t, errors.Join(errs...)
}

// raw is the section's settings, its switch left out and every entry of its maps given the
// entries' defaults; the environment applies key by key, as viper's AllSettings does.
func (sec *Section) raw(v *viper.Viper, name string) map[string]any {
	modules, _ := v.AllSettings()["modules"].(map[string]any)
	src, _ := modules[name].(map[string]any)
	raw := map[string]any{}
	for k, val := range src {
		if k != "enabled" {
			raw[k] = val
		}
	}
	for part, fields := range sec.entries {
		entries, _ := config.Lookup(raw, part).(map[string]any)
		for entry := range entries {
			m, ok := entries[entry].(map[string]any)
			if !ok {
				continue // not a map: the decode says so
			}
			for f, def := range fields {
				val := v.Get(sectionKey(name, part) + "." + entry + "." + f)
				if val == nil {
					val = def
				}
				config.Set(m, f, val)
			}
		}
	}
	return raw
}

// check decodes the defaults alone strictly: a default that no field of the struct takes is a
// bug in the module, which would otherwise be dropped without a word (decoding leaves unknown
// keys to config.Load, which reports them by name).
func (sec *Section) check(name string) error {
	raw := map[string]any{}
	for k, val := range sec.defaults {
		config.Set(raw, k, val)
	}
	for part, fields := range sec.entries {
		entry := map[string]any{}
		for f, val := range fields {
			config.Set(entry, f, val)
		}
		config.Set(raw, part, map[string]any{"example": entry})
	}
	var md mapstructure.Metadata
	if _, err := sec.decode(raw, false, &md); err != nil {
		return fmt.Errorf("%s: defaults: %w", sectionKey(name, ""), err)
	}
	if len(md.Unused) > 0 {
		sort.Strings(md.Unused)
		return fmt.Errorf("%s: defaults name no field of the module's config: %s", sectionKey(name, ""), strings.Join(md.Unused, ", "))
	}
	return nil
}

// decodeError is a section that does not decode (a value of the wrong type): it has no
// relative key of its own to name.
type decodeError struct{ error }

func (e decodeError) Unwrap() error { return e.error }

// decodeWith decodes as config.Decode does: durations ("15m") and comma-separated lists.
func decodeWith(raw map[string]any, out any, md *mapstructure.Metadata) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		Metadata:         md,
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
	return dec.Decode(raw)
}

// flatten is the errors that errors.Join joined in err, or err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Renames are p's keys under their old names, with the new names in full, as Load reads them:
// for tools and tests that write a config an older binary must read.
func (p Plugin) Renames() []config.Rename {
	if p.Config == nil {
		return nil
	}
	var s config.Schema
	p.Config.schema(p.Name, &s)
	return s.Renames
}
