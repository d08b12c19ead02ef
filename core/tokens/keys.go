package tokens

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Key is one asymmetric key of the keyring, named by its kid. A key with a private half signs
// (when active) and verifies; a public-only key verifies tokens signed before a rotation.
type Key struct {
	ID      string
	Method  jwt.SigningMethod // EdDSA or RS256, pinned per key
	Private any               // ed25519.PrivateKey or *rsa.PrivateKey; nil for verify-only keys
	Public  any               // ed25519.PublicKey or *rsa.PublicKey
	// OnlyType, when set, is the one token type the key may sign and verify (the derived
	// offline key), so a leak of it can never pass as an access token.
	OnlyType string
}

// LoadKeysDir reads a keyring directory as mounted from a Kubernetes Secret: "<kid>.pem" holds a
// PKCS#8 private key (Ed25519, or RSA of at least 2048 bits) and "<kid>.pub.pem" a PKIX public
// key kept only to verify tokens issued before a rotation.
func LoadKeysDir(dir string) ([]Key, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tokens: keys dir: %w", err)
	}
	var keys []Key
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".pem") || strings.HasPrefix(name, ".") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("tokens: read %s: %w", name, err)
		}
		var k Key
		if kid, ok := strings.CutSuffix(name, ".pub.pem"); ok {
			k, err = parsePublic(kid, raw)
		} else {
			k, err = parsePrivate(strings.TrimSuffix(name, ".pem"), raw)
		}
		if err != nil {
			return nil, fmt.Errorf("tokens: %s: %w", name, err)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("tokens: kid %q appears twice in %s", k.ID, dir)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
	return keys, nil
}

func pemBlock(raw []byte) ([]byte, error) {
	b, _ := pem.Decode(raw)
	if b == nil {
		return nil, errors.New("not PEM")
	}
	return b.Bytes, nil
}

func parsePrivate(kid string, raw []byte) (Key, error) {
	der, err := pemBlock(raw)
	if err != nil {
		return Key{}, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return Key{}, fmt.Errorf("want a PKCS#8 private key: %w", err)
	}
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		return Key{ID: kid, Method: jwt.SigningMethodEdDSA, Private: p, Public: p.Public()}, nil
	case *rsa.PrivateKey:
		if p.N.BitLen() < 2048 {
			return Key{}, errors.New("RSA keys must have at least 2048 bits")
		}
		return Key{ID: kid, Method: jwt.SigningMethodRS256, Private: p, Public: &p.PublicKey}, nil
	default:
		return Key{}, fmt.Errorf("unsupported private key type %T (use Ed25519 or RSA)", priv)
	}
}

func parsePublic(kid string, raw []byte) (Key, error) {
	der, err := pemBlock(raw)
	if err != nil {
		return Key{}, err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return Key{}, fmt.Errorf("want a PKIX public key: %w", err)
	}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return Key{ID: kid, Method: jwt.SigningMethodEdDSA, Public: p}, nil
	case *rsa.PublicKey:
		return Key{ID: kid, Method: jwt.SigningMethodRS256, Public: p}, nil
	default:
		return Key{}, fmt.Errorf("unsupported public key type %T", pub)
	}
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// JWKS is the public half of the keyring as a JSON Web Key Set (RFC 7517), for services that
// verify tokens locally. HS256 secrets are never published. Verify-only keys are published
// too: a local verifier refuses a token whose kid it cannot find, so a retired key must stay
// in the set until the last token it signed has expired (docs/operations.md).
func (s *Service) JWKS() []byte { return s.jwks }

// Issuer is the iss of the tokens this service issues.
func (s *Service) Issuer() string { return s.cfg.Issuer }

// SigningAlgorithms are the JWS algorithms of the tokens this service issues or has issued
// that may still be valid, sorted: each keyring key's (the active one, one published before it
// signs, a retired one whose tokens have not all expired) and the derived offline key's, and
// HS256 while the secret signs access or offline tokens.
func (s *Service) SigningAlgorithms() []string {
	algs := map[string]bool{}
	for _, k := range s.byKID {
		algs[k.Method.Alg()] = true
	}
	if s.signer == nil || s.offline == nil {
		algs[jwt.SigningMethodHS256.Alg()] = true
	}
	out := make([]string, 0, len(algs))
	for a := range algs {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func buildJWKS(keys []Key) []byte {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	b64 := base64.RawURLEncoding
	for _, k := range keys {
		switch p := k.Public.(type) {
		case ed25519.PublicKey:
			set.Keys = append(set.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(p), Kid: k.ID, Use: "sig", Alg: "EdDSA"})
		case *rsa.PublicKey:
			set.Keys = append(set.Keys, jwk{Kty: "RSA", N: b64.EncodeToString(p.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(p.E)).Bytes()), Kid: k.ID, Use: "sig", Alg: "RS256"})
		}
	}
	out, _ := json.Marshal(set)
	return out
}
