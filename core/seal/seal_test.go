package seal

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s, err := New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Seal("mfa", "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c, "JBSWY3DPEHPK3PXP") {
		t.Fatal("ciphertext contains the plaintext")
	}
	if got, err := s.Open("mfa", c); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := s.Open("session", c); err != ErrOpen {
		t.Fatalf("other purpose opened: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open("mfa", c); err != ErrOpen {
		t.Fatalf("other key opened: %v", err)
	}
	// Flip one bit of the decoded bytes (replacing trailing characters could leave them equal:
	// the last base64 character carries unused bits, and the ciphertext is random).
	raw, err := base64.RawStdEncoding.DecodeString(c[len(version):])
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		flipped := bytes.Clone(raw)
		flipped[i] ^= 1
		if _, err := s.Open("mfa", version+base64.RawStdEncoding.EncodeToString(flipped)); err != ErrOpen {
			t.Fatalf("tampered byte %d opened: %v", i, err)
		}
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

// TestFallback: a sealer rotating keys opens what the old key sealed, seals only under the new
// one (which the old key alone cannot open), and still refuses a key it was not given.
func TestFallback(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	old, err := New(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotating, err := NewWithFallback(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	before, err := old.Seal("mfa", "before")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotating.Open("mfa", before); err != nil || got != "before" {
		t.Fatalf("value sealed under the fallback key: %q %v", got, err)
	}
	if _, err := rotating.Open("session", before); err != ErrOpen {
		t.Fatalf("fallback ignored the purpose: %v", err)
	}
	after, err := rotating.Seal("mfa", "after")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Open("mfa", after); err != ErrOpen {
		t.Fatalf("new seal opened under the old key alone: %v", err)
	}
	current, _ := New(newKey)
	if got, err := current.Open("mfa", after); err != nil || got != "after" {
		t.Fatalf("new seal under the current key: %q %v", got, err)
	}
	stranger, _ := New(bytes.Repeat([]byte{3}, 32))
	sealed, _ := stranger.Seal("mfa", "x")
	if _, err := rotating.Open("mfa", sealed); err != ErrOpen {
		t.Fatalf("unknown key opened: %v", err)
	}
	if _, err := NewWithFallback(newKey, []byte("short")); err == nil {
		t.Fatal("short fallback key accepted")
	}
}
