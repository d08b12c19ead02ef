package core_test

import (
	"bytes"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/seal"
)

func mustKeys(t *testing.T, s core.Secrets) core.Keys {
	t.Helper()
	k, err := core.NewKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testSecrets() core.Secrets {
	return core.Secrets{JWT: []byte("jwt"), EncryptionKey: bytes.Repeat([]byte{9}, 32)}
}

// TestKeysDerive: a purpose's key is Secrets.Derive's (keys derived before Keys existed stay
// valid), differs between purposes and is not the raw key.
func TestKeysDerive(t *testing.T) {
	s := testSecrets()
	k := mustKeys(t, s)
	a, b := k.Derive("cashless-auth/a/v1"), k.Derive("cashless-auth/b/v1")
	if !bytes.Equal(a, s.Derive("cashless-auth/a/v1")) {
		t.Fatal("Keys.Derive differs from Secrets.Derive")
	}
	if bytes.Equal(a, b) || bytes.Equal(a, s.EncryptionKey) || len(a) != 32 {
		t.Fatalf("purposes share a key or use the raw one: %x %x", a, b)
	}
}

// TestKeysSealer: what the raw-key sealer of earlier releases sealed still opens; new seals use
// the purpose's derived key, which the raw key alone cannot open; another purpose's sealer
// opens neither; SealLegacy is what the earlier releases open.
func TestKeysSealer(t *testing.T) {
	s := testSecrets()
	k := mustKeys(t, s)
	raw, err := seal.New(s.EncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	mfa := k.Sealer("mfa")
	old, _ := raw.Seal("mfa", "old secret")
	if got, err := mfa.Open(old); err != nil || got != "old secret" {
		t.Fatalf("raw-key seal: %q %v", got, err)
	}
	sealed, err := mfa.Seal("new secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Open("mfa", sealed); err != seal.ErrOpen {
		t.Fatalf("raw key opened a new seal: %v", err)
	}
	if got, err := mfa.Open(sealed); err != nil || got != "new secret" {
		t.Fatalf("new seal: %q %v", got, err)
	}
	// The derived key alone opens it: new writes are under the derived key, not the raw one.
	derived, _ := seal.New(k.Derive("cashless-auth/seal/v1/mfa"))
	if got, err := derived.Open("mfa", sealed); err != nil || got != "new secret" {
		t.Fatalf("new seal under the derived key: %q %v", got, err)
	}
	other := k.Sealer("operator_session")
	if _, err := other.Open(sealed); err != seal.ErrOpen {
		t.Fatalf("another purpose opened a new seal: %v", err)
	}
	if _, err := other.Open(old); err != seal.ErrOpen {
		t.Fatalf("another purpose opened an old seal: %v", err)
	}
	legacy, err := mfa.SealLegacy("for the previous release")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := raw.Open("mfa", legacy); err != nil || got != "for the previous release" {
		t.Fatalf("legacy seal under the raw key: %q %v", got, err)
	}
}

func TestNewKeysShortKey(t *testing.T) {
	if _, err := core.NewKeys(core.Secrets{EncryptionKey: []byte("short")}); err == nil {
		t.Fatal("a short encryption key was accepted")
	}
}
