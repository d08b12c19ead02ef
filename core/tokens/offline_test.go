package tokens

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// header decodes a token's JOSE header without verifying it.
func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Header
}

// publishedKey finds kid in the JWKS and decodes its Ed25519 public key, as a POS would.
func publishedKey(t *testing.T, s *Service, kid string) ed25519.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, Kty, Crv, X, Alg string } `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid && k.Kty == "OKP" && k.Crv == "Ed25519" && k.Alg == "EdDSA" {
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if err != nil {
				t.Fatal(err)
			}
			return ed25519.PublicKey(x)
		}
	}
	t.Fatalf("kid %q not in the JWKS %s", kid, s.JWKS())
	return nil
}

// TestOfflineTokensNeedNoSecret: with only an HS256 secret configured, offline tokens are
// signed by the Ed25519 key derived from it, verifiable with the published public key alone,
// while access tokens stay HS256 as the legacy service issued them.
func TestOfflineTokensNeedNoSecret(t *testing.T) {
	s := newHS(t)
	off, _, err := s.Issue(Claims{Subject: "7", Type: TypeOffline, Role: "operator"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	h := header(t, off)
	kid, _ := h["kid"].(string)
	if h["alg"] != "EdDSA" || kid == "" {
		t.Fatalf("offline token header %v, want EdDSA with a kid", h)
	}
	pub := publishedKey(t, s, kid)
	// The POS: the public key, the pinned algorithm, nothing else.
	if _, err := jwt.Parse(off, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"EdDSA"})); err != nil {
		t.Fatalf("offline token does not verify with the published key: %v", err)
	}
	if _, err := jwt.Parse(off, func(*jwt.Token) (any, error) { return secret, nil }, jwt.WithValidMethods([]string{"HS256"})); err == nil {
		t.Fatal("offline token verifies with the HS256 secret")
	}
	if _, err := s.Verify(off, TypeOffline); err != nil {
		t.Fatalf("service refuses its offline token: %v", err)
	}
	acc, _, _ := s.Issue(Claims{Subject: "7", Type: TypeAccess}, time.Minute)
	if h := header(t, acc); h["alg"] != "HS256" || h["kid"] != nil {
		t.Fatalf("access token header %v, want HS256 without kid", h)
	}

	// Every replica with the same secret derives the same key; another secret, another key.
	again := newHS(t)
	if _, err := again.Verify(off, TypeOffline); err != nil {
		t.Fatalf("a second replica refuses the offline token: %v", err)
	}
	other, _ := New(Config{Secret: []byte("another-secret-another-secret-0123"), Issuer: "iss", Audience: "aud"})
	if _, err := other.Verify(off); err == nil {
		t.Fatal("a service with another secret accepts the offline token")
	}
}

// TestDerivedKeySignsOfflineTokensOnly: the derived key is limited to offline tokens, so even
// its private half could not mint an access or refresh token the service accepts.
func TestDerivedKeySignsOfflineTokensOnly(t *testing.T) {
	s := newHS(t)
	k, err := DeriveOfflineKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{TypeAccess, TypeRefresh} {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, &Claims{Subject: "1", Type: typ, Role: "admin", ID: "x", Issuer: "iss", Audience: "aud", IssuedAt: time.Now().Unix(), ExpiresAt: time.Now().Add(time.Minute).Unix()})
		tok.Header["kid"] = k.ID
		signed, _ := tok.SignedString(k.Private)
		if _, err := s.Verify(signed); err == nil {
			t.Errorf("%s token signed by the derived offline key accepted", typ)
		}
	}
	// Confusion: HS256 "signed" with the published public key under the derived kid.
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, &Claims{Subject: "1", Type: TypeOffline, ID: "x", Issuer: "iss", Audience: "aud", IssuedAt: time.Now().Unix(), ExpiresAt: time.Now().Add(time.Minute).Unix()})
	confused.Header["kid"] = k.ID
	ctok, _ := confused.SignedString([]byte(k.Public.(ed25519.PublicKey)))
	if _, err := s.Verify(ctok); err == nil {
		t.Fatal("HS256 token keyed by the public offline key accepted")
	}
}

// TestOfflineHS256ForOldFleets: the fleet setting keeps HS256 offline tokens; switching it off
// later still verifies the ones already issued, until they expire.
func TestOfflineHS256ForOldFleets(t *testing.T) {
	legacy, err := New(Config{Secret: secret, OfflineHS256: true, Issuer: "iss", Audience: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	old, _, _ := legacy.Issue(Claims{Subject: "7", Type: TypeOffline}, time.Hour)
	if h := header(t, old); h["alg"] != "HS256" {
		t.Fatalf("fleet setting: offline header %v, want HS256", h)
	}
	if _, err := newHS(t).Verify(old, TypeOffline); err != nil {
		t.Fatalf("HS256 offline token issued before the switch refused: %v", err)
	}
	if _, err := New(Config{OfflineHS256: true, Keys: []Key{mustKey(t)}, ActiveKID: "k1", Issuer: "iss", Audience: "aud"}); err == nil {
		t.Fatal("HS256 offline tokens without a secret accepted as a config")
	}
}

func mustKey(t *testing.T) Key {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return Key{ID: "k1", Method: jwt.SigningMethodEdDSA, Private: priv, Public: pub}
}

// TestHS256WithActiveKeyring: once a keyring key signs, HS256 tokens (which every holder of the
// secret can mint) pass only before jwt.hs256_until; offline ones also while the fleet setting is
// on. The check holds for tokens already in the cache of verified tokens.
func TestHS256WithActiveKeyring(t *testing.T) {
	now := time.Now()
	hs := newHS(t)
	access, _, _ := hs.Issue(Claims{Subject: "1", Type: TypeAccess}, 2*time.Hour)
	legacy, _ := New(Config{Secret: secret, OfflineHS256: true, Issuer: "iss", Audience: "aud"})
	offline, _, _ := legacy.Issue(Claims{Subject: "1", Type: TypeOffline}, 2*time.Hour)

	strict, _ := New(Config{Secret: secret, Keys: []Key{mustKey(t)}, ActiveKID: "k1", Issuer: "iss", Audience: "aud"})
	for name, tok := range map[string]string{"access": access, "offline": offline} {
		if _, err := strict.Verify(tok); err == nil {
			t.Errorf("HS256 %s token accepted with an active keyring and no hs256_until", name)
		}
	}

	during, _ := New(Config{Secret: secret, Keys: []Key{mustKey(t)}, ActiveKID: "k1", HS256Until: now.Add(time.Hour), Issuer: "iss", Audience: "aud"})
	clock := now
	during.SetClock(func() time.Time { return clock })
	if _, err := during.Verify(access); err != nil {
		t.Fatalf("HS256 access token refused before hs256_until: %v", err)
	}
	clock = now.Add(time.Hour)
	if _, err := during.Verify(access); err == nil {
		t.Fatal("cached HS256 access token accepted at hs256_until")
	}

	fleet, _ := New(Config{Secret: secret, Keys: []Key{mustKey(t)}, ActiveKID: "k1", OfflineHS256: true, Issuer: "iss", Audience: "aud"})
	if _, err := fleet.Verify(offline); err != nil {
		t.Fatalf("fleet setting: HS256 offline token refused: %v", err)
	}
	if _, err := fleet.Verify(access); err == nil {
		t.Fatal("fleet setting lets an HS256 access token through")
	}
	if tok, _, _ := fleet.Issue(Claims{Subject: "1", Type: TypeOffline}, time.Hour); header(t, tok)["alg"] != "HS256" {
		t.Fatal("fleet setting with a keyring: offline token not HS256")
	}
	if tok, _, _ := strict.Issue(Claims{Subject: "1", Type: TypeOffline}, time.Hour); header(t, tok)["kid"] != "k1" {
		t.Fatal("active keyring: offline token not signed by the active key")
	}
}
