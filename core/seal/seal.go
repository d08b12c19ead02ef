// Package seal encrypts secrets that must be read back (MFA seeds, legacy operator session
// tokens) with AES-256-GCM, so a database dump alone does not reveal them.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrOpen means a sealed value could not be decrypted (wrong key or tampered data).
var ErrOpen = errors.New("seal: cannot open sealed value")

const version = "v1:"

// Sealer encrypts with one key and decrypts with it or its fallback keys. Purpose strings bind a
// ciphertext to its use, so a sealed MFA secret copied into the session-token column does not
// open there.
type Sealer struct {
	aead cipher.AEAD
	// fallback are keys values may still be sealed under (a key being rotated out): they open,
	// they never seal, so each write moves a value onto the current key.
	fallback []cipher.AEAD
}

// New builds a Sealer from a 32-byte key.
func New(key []byte) (*Sealer, error) {
	return NewWithFallback(key)
}

// NewWithFallback builds a Sealer that seals under key and opens values sealed under key or,
// failing that, under each fallback key in turn. Every key is 32 bytes.
func NewWithFallback(key []byte, fallback ...[]byte) (*Sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	s := &Sealer{aead: aead}
	for _, k := range fallback {
		a, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("seal: fallback key: %w", err)
		}
		s.fallback = append(s.fallback, a)
	}
	return s, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext for purpose; the result is printable.
func (s *Sealer) Seal(purpose, plaintext string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	ad := sha256.Sum256([]byte(purpose))
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), ad[:])
	return version + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed for purpose, under the current key or a fallback one.
func (s *Sealer) Open(purpose, sealed string) (string, error) {
	if len(sealed) < len(version) || sealed[:len(version)] != version {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(version):])
	if err != nil {
		return "", ErrOpen
	}
	ad := sha256.Sum256([]byte(purpose))
	if pt, ok := open(s.aead, raw, ad[:]); ok {
		return pt, nil
	}
	for _, a := range s.fallback {
		if pt, ok := open(a, raw, ad[:]); ok {
			return pt, nil
		}
	}
	return "", ErrOpen
}

func open(a cipher.AEAD, raw, ad []byte) (string, bool) {
	n := a.NonceSize()
	if len(raw) < n {
		return "", false
	}
	pt, err := a.Open(nil, raw[:n], raw[n:], ad)
	return string(pt), err == nil
}
