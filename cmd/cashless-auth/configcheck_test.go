package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestConfigCheckWarnsOfOldKeys: config-check accepts a module's key under its old, top-level
// name and says which new key to use; with both set, that the new one wins.
func TestConfigCheckWarnsOfOldKeys(t *testing.T) {
	conf := embeddedConfig(t, "sms:\n  timeout: 5s\nreset:\n  ttl: 10m\nmodules:\n  password_reset:\n    ttl: 20m\n")
	out, stderr, err := runWith(t, modules.All(), conf, "config-check")
	if err != nil || !strings.Contains(out, "configuration OK") {
		t.Fatalf("config-check: %v\n%s%s", err, out, stderr)
	}
	for _, want := range []string{
		"warning: config: sms.timeout is deprecated and read as modules.phone_otp.sms.timeout",
		"warning: config: reset.ttl and modules.password_reset.ttl are both set: modules.password_reset.ttl wins",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
}

// TestRepositoryConfigIsCurrent: the config.yaml shipped with the source passes config-check
// without a warning: it shows the current names.
func TestRepositoryConfigIsCurrent(t *testing.T) {
	embeddedConfig(t, "") // clears the developer's CASHLESS_AUTH_* variables
	out, stderr, err := runWith(t, modules.All(), filepath.Join("..", "..", "config.yaml"), "config-check")
	if err != nil || !strings.Contains(out, "configuration OK") || stderr != "" {
		t.Fatalf("config-check of config.yaml: %v\n%s%s", err, out, stderr)
	}
}
