package system

import "testing"

// TestDiscoverable: only an issuer a client can fetch the document from, over TLS or on the
// machine itself, gets one.
func TestDiscoverable(t *testing.T) {
	for iss, want := range map[string]bool{
		"https://auth.example":            true,
		"https://auth.example/":           true,
		"https://api.example/auth":        true,
		"https://auth.example:8443":       true,
		"http://127.0.0.1:8080":           true,
		"http://[::1]:8080":               true,
		"http://localhost:8080":           true,
		"cashless-auth":                   false, // today's default
		"http://auth.example":             false, // anyone on the path could swap the keys
		"http://10.0.0.7:8080":            false,
		"https://auth.example?tenant=a":   false,
		"https://auth.example/#keys":      false,
		"https://auth.example?":           false,
		"https://user@auth.example":       false,
		"https:auth.example":              false,
		"ftp://auth.example":              false,
		"/relative":                       false,
		"https://":                        false,
		"http://127.0.0.1.auth.example:1": false,
	} {
		if got := discoverable(iss); got != want {
			t.Errorf("discoverable(%q) = %v, want %v", iss, got, want)
		}
	}
}
