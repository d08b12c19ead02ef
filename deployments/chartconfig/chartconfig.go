// Package chartconfig gives tests the config.yaml the Helm chart of a source tree renders for a
// tenant of deployments/tenants/, and the map helpers to change it. The tenant-graph test and
// the upgrade gate (which renders the last release's tree too) read configs the same way.
// scripts/chart.sh checks the real rendering with helm.
package chartconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ReadYAML reads a YAML document into a map.
func ReadYAML(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Tenants names the tenants of tree (deployments/tenants/<name>.yaml).
func Tenants(tree string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(tree, "deployments", "tenants", "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("tenant files of %s: %w", tree, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no tenant files under %s/deployments/tenants", tree)
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimSuffix(filepath.Base(f), ".yaml")
	}
	return out, nil
}

// Render is the config the chart of tree gives tenant: the chart's `config` values with the
// tenant's `config` merged over them as Helm merges values. The chart's template adds only
// server.addr and Secret mount paths, which tests set themselves.
func Render(tree, tenant string) (map[string]any, error) {
	values, err := ReadYAML(filepath.Join(tree, "deployments", "helm", "cashless-auth", "values.yaml"))
	if err != nil {
		return nil, err
	}
	own, err := ReadYAML(filepath.Join(tree, "deployments", "tenants", tenant+".yaml"))
	if err != nil {
		return nil, err
	}
	chart, _ := values["config"].(map[string]any)
	tenantConfig, _ := own["config"].(map[string]any)
	return Merge(chart, tenantConfig), nil
}

// Merge is a new map: dst with src merged over it as Helm merges values (maps recursively,
// anything else replaced). Neither argument is changed.
func Merge(dst, src map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{dst, src} {
		for k, v := range m {
			if sm, ok := v.(map[string]any); ok {
				dm, _ := out[k].(map[string]any)
				out[k] = Merge(dm, sm)
				continue
			}
			out[k] = v
		}
	}
	return out
}
