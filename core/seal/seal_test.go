package seal

import (
	"bytes"
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
	tampered := c[:len(c)-2] + "AA"
	if _, err := s.Open("mfa", tampered); err != ErrOpen {
		t.Fatalf("tampered opened: %v", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
