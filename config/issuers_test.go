package config

import (
	"slices"
	"testing"
)

// TestAcceptedIssuers: jwt.accepted_issuers reads as a YAML list and, from the environment, as a
// comma-separated string (NOTES.md); unset, no other issuer is accepted.
func TestAcceptedIssuers(t *testing.T) {
	want := []string{"cashless-auth", "https://old.example"}
	c, err := loadCore(t, map[string]any{"jwt.accepted_issuers": []any{"cashless-auth", "https://old.example"}})
	if err != nil || !slices.Equal(c.JWT.AcceptedIssuers, want) {
		t.Fatalf("from a list: %q %v", c.JWT.AcceptedIssuers, err)
	}
	t.Setenv("CASHLESS_AUTH_JWT_ACCEPTED_ISSUERS", "cashless-auth, https://old.example")
	c, err = loadCore(t, nil)
	if err != nil || !slices.Equal(c.JWT.AcceptedIssuers, want) {
		t.Fatalf("from the environment: %q %v", c.JWT.AcceptedIssuers, err)
	}
	t.Setenv("CASHLESS_AUTH_JWT_ACCEPTED_ISSUERS", "")
	if c, err = loadCore(t, nil); err != nil || len(c.JWT.AcceptedIssuers) != 0 {
		t.Fatalf("unset: %q %v", c.JWT.AcceptedIssuers, err)
	}
}
