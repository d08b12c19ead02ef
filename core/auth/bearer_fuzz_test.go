package auth

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzBearerToken: the Authorization header is the client's text. bearerToken never panics;
// what it returns is non-empty and untrimmable; the scheme is "Bearer" in any case (RFC 7235
// §2.1) and nothing else; and a token that needs no trimming comes back byte for byte behind
// any spelling of the scheme.
func FuzzBearerToken(f *testing.F) {
	for _, h := range []string{"Bearer abc.def.ghi", "bearer  x ", "BEARER ck_x", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer\tx", " Bearer x", "Bearerx y", "", "Bearer a b"} {
		f.Add(h, "eyJ.x.y")
	}
	f.Fuzz(func(t *testing.T, header, token string) {
		r := &http.Request{Header: http.Header{}}
		r.Header.Set("Authorization", header)
		got, ok := bearerToken(r)
		if ok {
			if got == "" || strings.TrimSpace(got) != got {
				t.Fatalf("Authorization %q gave %q", header, got)
			}
			if scheme, _, _ := strings.Cut(header, " "); !strings.EqualFold(scheme, "bearer") {
				t.Fatalf("Authorization %q (scheme %q) accepted as a bearer token", header, scheme)
			}
		} else if got != "" {
			t.Fatalf("Authorization %q refused but gave %q", header, got)
		}
		if token == "" || strings.TrimSpace(token) != token {
			return
		}
		// Any case of the scheme (len(header) picks one), then the token.
		scheme := []byte("bearer")
		for i := range scheme {
			if len(header)>>i&1 == 1 {
				scheme[i] -= 'a' - 'A'
			}
		}
		r.Header.Set("Authorization", string(scheme)+" "+token)
		if got, ok := bearerToken(r); !ok || got != token {
			t.Fatalf("%s %q gave %q, %v", scheme, token, got, ok)
		}
	})
}
