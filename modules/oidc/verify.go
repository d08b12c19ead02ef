package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken covers every ID token the lane refuses: a bad signature, another issuer or
// audience, expired or not yet valid, an algorithm the provider is not configured for, no
// subject, a nonce that does not match, an e-mail the provider did not verify where that is
// required, a token already used.
var ErrInvalidToken = errors.New("oidc: invalid ID token")

// Nonce modes: what the token's nonce claim must be, given the nonce the client sent.
const (
	NonceNone   = "none"   // no nonce is checked
	NonceRaw    = "raw"    // the claim equals the client's nonce
	NonceSHA256 = "sha256" // the claim is base64url(SHA-256(nonce)), as native Apple and Google sign-in send it
)

// Identity is what a verified ID token proves.
type Identity struct {
	Issuer, Subject string
	Email           *string // only when verified, or when the provider does not require it
	Phone           *string // phone_number, only when phone_number_verified is true
	Expiry          time.Time
}

// verifier checks one provider's ID tokens.
type verifier struct {
	p    Provider
	keys *keySource
	now  func() time.Time
}

// verify checks idToken against the provider's keys and rules and the client's nonce.
func (v *verifier) verify(ctx context.Context, idToken, nonce string) (Identity, error) {
	var keyErr error
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(
		jwt.WithValidMethods(v.p.Algorithms),
		jwt.WithIssuer(v.p.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(v.p.Leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithJSONNumber(),
	)
	_, err := parser.ParseWithClaims(idToken, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if _, isString := t.Header["kid"].(string); t.Header["kid"] != nil && !isString {
			return nil, errors.New("kid is not a string")
		}
		k, err := v.keys.key(ctx, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		// A key published for one algorithm signs only with it: an RSA key meant for PS256
		// does not verify an RS256 signature (golang-jwt checks the key's type, not its alg).
		if k.Algorithm != "" && k.Algorithm != t.Method.Alg() {
			return nil, fmt.Errorf("key %q is for %s, the token says %s", kid, k.Algorithm, t.Method.Alg())
		}
		return k.Key, nil
	})
	if errors.Is(keyErr, ErrUnavailable) {
		return Identity{}, keyErr
	}
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return v.identity(claims, nonce)
}

// identity applies the rules beyond the signature, issuer and expiry.
func (v *verifier) identity(c jwt.MapClaims, nonce string) (Identity, error) {
	invalid := func(format string, a ...any) (Identity, error) {
		return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, a...))
	}
	aud, err := c.GetAudience()
	if err != nil || !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(v.p.ClientIDs, a) }) {
		return invalid("audience %v is none of the provider's client ids", aud)
	}
	// OpenID Connect Core 3.1.3.7: with several audiences, the authorized party must be ours.
	if azp, ok := c["azp"]; ok || len(aud) > 1 {
		s, _ := azp.(string)
		if !slices.Contains(v.p.ClientIDs, s) {
			return invalid("authorized party %v is none of the provider's client ids", azp)
		}
	}
	sub, _ := c["sub"].(string)
	if sub == "" {
		return invalid("no subject")
	}
	if err := v.checkNonce(c["nonce"], nonce); err != nil {
		return invalid("%v", err)
	}
	exp, err := c.GetExpirationTime()
	if err != nil || exp == nil {
		return invalid("no expiry")
	}
	id := Identity{Issuer: v.p.Issuer, Subject: sub, Expiry: exp.Time}
	if email, _ := c["email"].(string); email != "" {
		switch verified := truth(c["email_verified"]); {
		case verified:
			id.Email = &email
		case v.p.RequireVerifiedEmail:
			return invalid("e-mail not verified")
		}
	} else if v.p.RequireVerifiedEmail {
		return invalid("no e-mail")
	}
	if phone, _ := c["phone_number"].(string); phone != "" && truth(c["phone_number_verified"]) {
		id.Phone = &phone
	}
	return id, nil
}

func (v *verifier) checkNonce(claim any, nonce string) error {
	got, _ := claim.(string)
	var want string
	switch v.p.Nonce {
	case NonceNone:
		return nil
	case NonceRaw:
		want = nonce
	case NonceSHA256:
		sum := sha256.Sum256([]byte(nonce))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce == "" {
		return errors.New("the provider requires a nonce and the request has none")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errors.New("nonce mismatch")
	}
	return nil
}

// truth reads a boolean claim that some providers send as a string (Apple's email_verified is
// "true" or "false").
func truth(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}
