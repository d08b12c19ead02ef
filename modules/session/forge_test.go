package session_test

import (
	"encoding/json"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// forgeHS256 signs payload (JSON claims) with a key the service does not hold.
func forgeHS256(t *testing.T, key, payload string) string {
	t.Helper()
	var claims jwt.MapClaims
	if err := json.Unmarshal([]byte(payload), &claims); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
