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

// Sealer encrypts and decrypts with one key. Purpose strings bind a ciphertext to its use, so
// a sealed MFA secret copied into the session-token column does not open there.
type Sealer struct {
	aead cipher.AEAD
}

// New builds a Sealer from a 32-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
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

// Open decrypts a value sealed for purpose.
func (s *Sealer) Open(purpose, sealed string) (string, error) {
	if len(sealed) < len(version) || sealed[:len(version)] != version {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(version):])
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrOpen
	}
	ad := sha256.Sum256([]byte(purpose))
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, raw[:n], raw[n:], ad[:])
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}
