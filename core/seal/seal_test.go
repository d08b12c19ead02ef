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
