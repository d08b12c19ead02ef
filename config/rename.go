package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/viper"
)

// Rename is a key, or a whole section, moved to a new name: Old "sms" and New
// "modules.phone_otp.sms" read sms.provider as modules.phone_otp.sms.provider. Old names keep
// working until the next major version, with a warning.
type Rename struct {
	Old, New string
}

// Renamed is a key the configuration set under its old name.
type Renamed struct {
	Old, New string
	// Env and NewEnv: the old, the new key was set by its environment variable, so the
	// messages name the variable.
	Env, NewEnv bool
	// Shadowed: the new name is set too; it wins and the old one is ignored.
	Shadowed bool
}

// Message is the warning for r, naming both names (each as it was set: key or variable) and
// what to do.
func (r Renamed) Message() string {
	name := func(key string, env bool) string {
		if env {
			return EnvPrefix + "_" + envName(key)
		}
		return key
	}
	old := name(r.Old, r.Env)
	if r.Shadowed {
		new := name(r.New, r.NewEnv)
		return fmt.Sprintf("config: %s and %s are both set: %s wins and %s is ignored; remove %s", old, new, new, old, old)
	}
	new := name(r.New, r.Env) // the old one's form: a variable is renamed to a variable
	return fmt.Sprintf("config: %s is deprecated and read as %s until the next major version; rename it to %s", old, new, new)
}

// rename is k's new name when a rename covers it.
func rename(k string, renames []Rename) (string, bool) {
	for _, r := range renames {
		if rest, ok := strings.CutPrefix(k, r.Old); ok && (rest == "" || rest[0] == '.') {
			return r.New + rest, true
		}
	}
	return "", false
}

// oldNames are the old names of known keys: a variable setting one is read, not reported.
func oldNames(known map[string]bool, renames []Rename) []string {
	var olds []string
	for k := range known {
		for _, r := range renames {
			if rest, ok := strings.CutPrefix(k, r.New); ok && (rest == "" || rest[0] == '.') {
				olds = append(olds, r.Old+rest)
			}
		}
	}
	sort.Strings(olds)
	return olds
}

// setBy tells whether the operator set a key, as opposed to its default.
type setBy struct {
	v         *viper.Viper
	overrides map[string]bool
}

func (s setBy) env(key string) bool { return os.Getenv(EnvPrefix+"_"+envName(key)) != "" }

func (s setBy) any(key string) bool { return s.overrides[key] || s.env(key) || s.v.InConfig(key) }

// applyRenames copies every key set under an old name (among candidates) to its new name,
// unless the new one is set too: the new name wins.
func applyRenames(v *viper.Viper, set setBy, renames []Rename, accepted func(string) bool, candidates []string) []Renamed {
	sort.Strings(candidates)
	var out []Renamed
	for i, old := range candidates {
		if i > 0 && candidates[i-1] == old {
			continue
		}
		nk, ok := rename(old, renames)
		if !ok || !accepted(nk) || !set.any(old) {
			continue
		}
		r := Renamed{Old: old, New: nk, Env: set.env(old), NewEnv: set.env(nk), Shadowed: set.any(nk)}
		if !r.Shadowed {
			v.Set(nk, v.Get(old))
		}
		out = append(out, r)
	}
	return out
}

// matchesEntry says whether k is a field of an entry of a map keyed by user-chosen names.
func matchesEntry(k string, patterns []string) bool {
	parts := strings.Split(k, ".")
	for _, p := range patterns {
		pp := strings.Split(strings.ToLower(p), ".")
		if len(pp) != len(parts) {
			continue
		}
		match := true
		for i := range pp {
			match = match && (pp[i] == "*" || pp[i] == parts[i])
		}
		if match {
			return true
		}
	}
	return false
}

// entryPrefixes are the maps of patterns, up to the user-chosen name: variables under them may
// name an entry the file declares.
func entryPrefixes(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if before, _, ok := strings.Cut(p, "*"); ok {
			out = append(out, strings.ToLower(before))
		}
	}
	return out
}
