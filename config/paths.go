package config

import "strings"

// Lookup returns the value at a dotted key ("modules.oidc.providers") of a nested settings map,
// or nil when any part of the path is missing or not a map.
func Lookup(m map[string]any, key string) any {
	var cur any = m
	for _, part := range strings.Split(key, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

// Set puts v at a dotted key of a nested settings map, creating the maps on the way.
func Set(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, part := range parts[:len(parts)-1] {
		next, ok := m[part].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[part] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
