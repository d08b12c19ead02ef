package tokens

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// offlineKeyInfo names what the derived key is for, so the same secret can never yield it for
// another purpose; changing it changes every replica's offline key at once (it is part of the
// wire format: never change it).
const offlineKeyInfo = "cashless-auth offline-token signing key v1 (Ed25519)"

// DeriveOfflineKey derives the Ed25519 key that signs offline and device tokens from the HS256
// secret. Offline tokens are verified on the POS by signature: with HS256 every POS held the
// secret that also signs admin access tokens. Derived rather than configured, so every replica
// signs with the same key and no tenant needs a new setting; its public half is published in
// the JWKS and is all a POS needs. The key verifies offline tokens only.
func DeriveOfflineKey(secret []byte) (Key, error) {
	seed, err := hkdf.Key(sha256.New, secret, nil, offlineKeyInfo, ed25519.SeedSize)
	if err != nil {
		return Key{}, fmt.Errorf("tokens: derive offline key: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return Key{ID: thumbprint(pub), Method: jwt.SigningMethodEdDSA, Private: priv, Public: pub, OnlyType: TypeOffline}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key, used as its kid: any JOSE
// library recomputes it from the published key, and a new secret gives a new kid.
func thumbprint(pub ed25519.PublicKey) string {
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
