package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAcceptedIssuers: after jwt.issuer changes, tokens issued under the old issuer verify
// while it is accepted, new tokens carry the new one, and any other issuer is refused.
func TestAcceptedIssuers(t *testing.T) {
	before, err := New(Config{Secret: secret, Issuer: "cashless-auth", Audience: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _, _ := before.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	stranger, _ := New(Config{Secret: secret, Issuer: "https://other.example", Audience: "aud"})
	strangerTok, _, _ := stranger.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)

	after, err := New(Config{Secret: secret, Issuer: "https://auth.example", AcceptedIssuers: []string{"cashless-auth"}, Audience: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	newTok, c, _ := after.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	if c.Issuer != "https://auth.example" {
		t.Fatalf("issued with iss %q, want the new issuer", c.Issuer)
	}
	for i := 0; i < 2; i++ { // the second round is served from the cache of verified tokens
		for name, tok := range map[string]string{"old issuer": oldTok, "new issuer": newTok} {
			if got, err := after.Verify(tok, TypeAccess); err != nil || got.Subject != "1" {
				t.Errorf("round %d, %s: %v", i, name, err)
			}
		}
		if _, err := after.Verify(strangerTok); err != ErrInvalid {
			t.Errorf("round %d, an issuer never accepted: %v", i, err)
		}
	}
	// Once the old issuer is no longer accepted (its tokens have expired), it is refused.
	done, _ := New(Config{Secret: secret, Issuer: "https://auth.example", Audience: "aud"})
	if _, err := done.Verify(oldTok); err != ErrInvalid {
		t.Errorf("old issuer after the switch ended: %v", err)
	}
}

// TestIssuerRequired: an empty issuer would accept only tokens without iss; New refuses it.
func TestIssuerRequired(t *testing.T) {
	if _, err := New(Config{Secret: secret, Audience: "aud"}); err == nil {
		t.Fatal("a service without issuer was built")
	}
}

// TestPublishedKeysAndAlgorithms: the JWKS names every keyring key, the verify-only (retired)
// ones included, and SigningAlgorithms lists exactly the algorithms of the tokens still valid.
func TestPublishedKeysAndAlgorithms(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	active := Key{ID: "2026-11", Method: jwt.SigningMethodRS256, Private: rsaPriv, Public: &rsaPriv.PublicKey}
	retired := Key{ID: "2026-05", Method: jwt.SigningMethodEdDSA, Public: edPub}
	cases := []struct {
		name string
		cfg  Config
		kids []string
		algs []string
	}{
		{"secret only: HS256 and the derived offline key", Config{Secret: secret}, nil, []string{"EdDSA", "HS256"}},
		{"keyring without secret", Config{Keys: []Key{active, retired}, ActiveKID: "2026-11"}, []string{"2026-11", "2026-05"}, []string{"EdDSA", "RS256"}},
		{"keyring published, secret still signs", Config{Secret: secret, Keys: []Key{active}}, []string{"2026-11"}, []string{"EdDSA", "HS256", "RS256"}},
		{"keyring signs, secret kept for the switch", Config{Secret: secret, Keys: []Key{active}, ActiveKID: "2026-11"}, []string{"2026-11"}, []string{"EdDSA", "RS256"}},
		{"keyring signs, offline tokens HS256", Config{Secret: secret, Keys: []Key{active}, ActiveKID: "2026-11", OfflineHS256: true}, []string{"2026-11"}, []string{"EdDSA", "HS256", "RS256"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Issuer, tc.cfg.Audience = "iss", "aud"
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var set struct {
				Keys []struct {
					Kid string `json:"kid"`
				} `json:"keys"`
			}
			if err := json.Unmarshal(s.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			var published []string
			for _, k := range set.Keys {
				published = append(published, k.Kid)
			}
			for _, kid := range tc.kids {
				if !slices.Contains(published, kid) {
					t.Errorf("kid %q not published: %v", kid, published)
				}
			}
			if got := s.SigningAlgorithms(); !slices.Equal(got, tc.algs) {
				t.Errorf("algorithms %v, want %v", got, tc.algs)
			}
		})
	}
}
