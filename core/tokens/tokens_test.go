package tokens

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newHS(t *testing.T) *Service {
	t.Helper()
	s, err := New(Config{Secret: secret, Issuer: "iss", Audience: "aud", Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueVerifyHS256(t *testing.T) {
	s := newHS(t)
	tok, c, err := s.Issue(Claims{Subject: "1", Type: TypeAccess, Role: "admin"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(tok, TypeAccess)
	if err != nil || got.Subject != "1" || got.ID != c.ID || got.Issuer != "iss" || got.Audience != "aud" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := s.Verify(tok, TypeRefresh); err != ErrType {
		t.Fatalf("wrong type accepted: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	s := newHS(t)
	other, _ := New(Config{Secret: secret, Issuer: "other", Audience: "aud"})
	wrongIss, _, _ := other.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	otherAud, _ := New(Config{Secret: secret, Issuer: "iss", Audience: "other"})
	wrongAud, _, _ := otherAud.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	expired, _, _ := s.Issue(Claims{Subject: "1", Type: TypeAccess}, -time.Minute)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "1", "type": "access", "jti": "x", "iss": "iss", "aud": "aud", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}).SignedString(secret)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "1", "type": "access", "jti": "x", "iss": "iss", "aud": "aud", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "type": "access", "jti": "x", "iss": "iss", "aud": "aud", "iat": time.Now().Unix()}).SignedString(secret)
	for name, tok := range map[string]string{"issuer": wrongIss, "audience": wrongAud, "hs512": hs512, "none": none, "no exp": noExp, "garbage": "a.b.c"} {
		if _, err := s.Verify(tok); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := s.Verify(expired); err != ErrExpired {
		t.Errorf("expired: %v", err)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKeyRotation follows docs/operations.md: a new Ed25519 key signs, the old RSA key stays
// as public-only and still verifies, HS256 tokens keep verifying while jwt.hs256_until allows.
func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	writePEM(t, filepath.Join(dir, "2026-11.pem"), "PRIVATE KEY", der)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ = x509.MarshalPKCS8PrivateKey(rsaPriv)
	writePEM(t, filepath.Join(dir, "2026-10.pem"), "PRIVATE KEY", der)

	keys, err := LoadKeysDir(dir)
	if err != nil || len(keys) != 2 {
		t.Fatalf("load: %v %d", err, len(keys))
	}
	old, err := New(Config{Keys: keys, ActiveKID: "2026-10", Issuer: "iss", Audience: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _, _ := old.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	hsTok, _, _ := newHS(t).Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)

	// Rotate: the RSA key becomes public-only, the Ed25519 key signs.
	os.Remove(filepath.Join(dir, "2026-10.pem"))
	pub, _ := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
	writePEM(t, filepath.Join(dir, "2026-10.pub.pem"), "PUBLIC KEY", pub)
	keys, err = LoadKeysDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Secret: secret, Keys: keys, ActiveKID: "2026-11", HS256Until: time.Now().Add(time.Hour), Issuer: "iss", Audience: "aud"})
	if err != nil {
		t.Fatal(err)
	}
	newTok, _, _ := s.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	hdr, _, _ := strings.Cut(newTok, ".")
	if parsed, _, err := jwt.NewParser().ParseUnverified(newTok, jwt.MapClaims{}); err != nil || parsed.Header["kid"] != "2026-11" || parsed.Header["alg"] != "EdDSA" {
		t.Fatalf("new token header %s: %v", hdr, err)
	}
	for name, tok := range map[string]string{"new": newTok, "old rsa": oldTok, "hs256": hsTok} {
		if _, err := s.Verify(tok); err != nil {
			t.Errorf("%s token: %v", name, err)
		}
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil || len(set.Keys) != 3 { // both keys and the derived offline key
		t.Fatalf("jwks: %s %v", s.JWKS(), err)
	}
	if strings.Contains(string(s.JWKS()), string(secret)) {
		t.Fatal("JWKS leaks the HS256 secret")
	}
	// Algorithm confusion: an HS256 token whose kid names the RSA key, "signed" with its public
	// key bytes, must fail.
	confused := jwt.NewWithClaims(jwt.SigningMethodHS256, &Claims{Subject: "1", Type: TypeAccess, ID: "x", Issuer: "iss", Audience: "aud", IssuedAt: time.Now().Unix(), ExpiresAt: time.Now().Add(time.Minute).Unix()})
	confused.Header["kid"] = "2026-10"
	ctok, _ := confused.SignedString(pub)
	if _, err := s.Verify(ctok); err == nil {
		t.Fatal("algorithm confusion accepted")
	}
	// A replica that forgot the key refuses tokens it cannot check.
	if _, err := newHS(t).Verify(newTok); err == nil {
		t.Fatal("unknown kid accepted")
	}
}

func BenchmarkVerifyHS256(b *testing.B) {
	s, _ := New(Config{Secret: secret, Issuer: "iss", Audience: "aud"})
	tok, _, _ := s.Issue(Claims{Subject: "1", Type: TypeAccess, Role: "admin", Session: NewID()}, time.Hour)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifiedCacheKeepsEveryCheck: a token served from the cache of verified tokens still
// expires on time and still has its type checked; a tampered copy is a different entry.
func TestVerifiedCacheKeepsEveryCheck(t *testing.T) {
	s := newHS(t)
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	tok, _, _ := s.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	for i := 0; i < 2; i++ { // the second call is a cache hit
		if _, err := s.Verify(tok, TypeAccess); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := s.Verify(tok, TypeRefresh); err != ErrType {
		t.Fatalf("cached token with the wrong type: %v", err)
	}
	if _, err := s.Verify(tok[:len(tok)-2] + "AA"); err == nil {
		t.Fatal("tampered copy of a cached token accepted")
	}
	c, _ := s.Verify(tok)
	if raw, err := c.JSON(); err != nil || !strings.Contains(string(raw), `"sub":"1"`) {
		t.Fatalf("cached JSON: %s %v", raw, err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.Verify(tok); err == nil {
		t.Fatal("expired token served from the cache")
	}
}

func BenchmarkVerifyHS256Uncached(b *testing.B) {
	s, _ := New(Config{Secret: secret, Issuer: "iss", Audience: "aud"})
	tok, _, _ := s.Issue(Claims{Subject: "1", Type: TypeAccess, Role: "admin", Session: NewID()}, time.Hour)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}
