package core

import (
	"fmt"

	"github.com/cashlessmedia/cashless-auth/core/seal"
)

// Keys gives modules key material for one purpose each, never the raw secrets: a module's key
// is useless for any other purpose, and a module cannot sign tokens or read another module's
// sealed data.
type Keys struct {
	secrets Secrets
}

// NewKeys derives modules' keys from s, whose encryption key must be 32 bytes.
func NewKeys(s Secrets) (Keys, error) {
	if len(s.EncryptionKey) != 32 {
		return Keys{}, fmt.Errorf("core: encryption key must be 32 bytes, got %d", len(s.EncryptionKey))
	}
	return Keys{secrets: s}, nil
}

// Derive is a 32-byte key for purpose (Secrets.Derive: HMAC-SHA256 of the encryption key over
// purpose), so keys derived before modules received Keys, such as phone_otp's code-hash key,
// are the same. Name purposes "cashless-auth/<module>/<use>/v<n>".
func (k Keys) Derive(purpose string) []byte { return k.secrets.Derive(purpose) }

// sealPrefix keeps sealing keys apart from Derive's: Sealer(p) and Derive(p) never share a key.
const sealPrefix = "cashless-auth/seal/v1/"

// Sealer seals data for purpose (also bound to it as associated data, as core/seal does) under
// a key derived for it, and opens data sealed so or, as releases before derived keys sealed it,
// under the raw encryption key for the same purpose. A value sealed the old way therefore stays
// readable and moves to the derived key at its next write.
func (k Keys) Sealer(purpose string) *Sealer {
	s, err := seal.NewWithFallback(k.Derive(sealPrefix+purpose), k.secrets.EncryptionKey)
	if err != nil {
		panic(err) // NewKeys checked the raw key; a derived one is always 32 bytes
	}
	legacy, err := seal.New(k.secrets.EncryptionKey)
	if err != nil {
		panic(err)
	}
	return &Sealer{purpose: purpose, s: s, legacy: legacy}
}

// Sealer seals and opens one purpose's data (Keys.Sealer).
type Sealer struct {
	purpose string
	s       *seal.Sealer
	legacy  *seal.Sealer
}

// Seal encrypts plaintext under the purpose's derived key.
func (s *Sealer) Seal(plaintext string) (string, error) { return s.s.Seal(s.purpose, plaintext) }

// Open decrypts a value sealed under the derived key or, from before, under the raw key.
func (s *Sealer) Open(sealed string) (string, error) { return s.s.Open(s.purpose, sealed) }

// SealLegacy encrypts plaintext under the raw encryption key, as releases before derived keys
// did: only for a column the previous release still reads (expand, then contract), so that it
// finds this release's writes after a rollback. Drop each use when its column is contracted.
func (s *Sealer) SealLegacy(plaintext string) (string, error) {
	return s.legacy.Seal(s.purpose, plaintext)
}
