// Package tokens issues and verifies the platform's JWTs with a pinned algorithm, issuer,
// audience and type, as docs/contract/NOTES.md ("Tokens") requires.
package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types carried in the "type" claim.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
	TypeOffline = "offline"
)

// Errors a verification can end with; callers answer them all alike to the client.
var (
	ErrInvalid = errors.New("tokens: invalid token")
	ErrExpired = errors.New("tokens: token expired")
	ErrType    = errors.New("tokens: wrong token type")
)

// Claims are the platform's JWT claims. Integers stay integers on the wire (NOTES.md).
type Claims struct {
	Subject       string `json:"sub"`
	Type          string `json:"type"`
	Role          string `json:"role,omitempty"`
	ID            string `json:"jti"`
	IssuedAt      int64  `json:"iat"`
	ExpiresAt     int64  `json:"exp"`
	Issuer        string `json:"iss"`
	Audience      string `json:"aud"`
	EventID       *int64 `json:"event_id,omitempty"`
	DeviceID      *int64 `json:"device_id,omitempty"`
	MFAVerifiedAt *int64 `json:"mfa_verified_at,omitempty"`
	// OperatorID is the operator a device's offline token was issued under.
	OperatorID *int64 `json:"operator_id,omitempty"`
	// Session names the login session (refresh family) an access or refresh token belongs
	// to, or that asked for an offline token, so revoking the session revokes them all.
	Session string `json:"sid,omitempty"`

	raw []byte // JSON of these claims, kept with verified tokens
}

// JSON returns the claims as JSON. Claims returned by Verify are shared between requests and
// must not be modified.
func (c *Claims) JSON() ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	return json.Marshal(c)
}

// GetExpirationTime implements jwt.Claims.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}

// GetNotBefore implements jwt.Claims; the platform does not use nbf.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *Claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings{c.Audience}, nil }

// Config pins the signing key and the checks.
type Config struct {
	// Secret is the HS256 key (the default, compatible with the legacy service). Tokens without
	// a kid are HS256 and verify only with it; empty disables HS256.
	Secret []byte
	// Keys is the asymmetric keyring; ActiveKID names the key that signs. Without ActiveKID the
	// service signs HS256 and the keyring only verifies.
	Keys      []Key
	ActiveKID string
	Issuer    string
	Audience  string
	Leeway    time.Duration
	OnIssue   func(tokenType string) // observability hook, may be nil
}

// Service signs and verifies tokens. It is safe for concurrent use.
type Service struct {
	cfg    Config
	parser *jwt.Parser
	now    func() time.Time
	byKID  map[string]Key
	signer *Key // nil: HS256 with cfg.Secret
	jwks   []byte
	cache  *verified
}

// New builds a Service. The HS256 secret, when given, must be at least 32 bytes.
func New(cfg Config) (*Service, error) {
	if len(cfg.Secret) > 0 && len(cfg.Secret) < 32 {
		return nil, fmt.Errorf("tokens: secret must be at least 32 bytes, got %d", len(cfg.Secret))
	}
	s := &Service{cfg: cfg, now: time.Now, byKID: map[string]Key{}, jwks: buildJWKS(cfg.Keys), cache: newVerified()}
	algs := map[string]bool{}
	if len(cfg.Secret) > 0 {
		algs[jwt.SigningMethodHS256.Alg()] = true
	}
	for _, k := range cfg.Keys {
		s.byKID[k.ID] = k
		algs[k.Method.Alg()] = true
	}
	if cfg.ActiveKID != "" {
		k, ok := s.byKID[cfg.ActiveKID]
		if !ok || k.Private == nil {
			return nil, fmt.Errorf("tokens: active kid %q has no private key in the keyring", cfg.ActiveKID)
		}
		s.signer = &k
	} else if len(cfg.Secret) == 0 {
		return nil, errors.New("tokens: no signing key: set the HS256 secret or an active kid")
	}
	valid := make([]string, 0, len(algs))
	for a := range algs {
		valid = append(valid, a)
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods(valid),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return s.now() }),
	)
	return s, nil
}

// SetClock replaces the clock, for tests of expiry.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Issue fills iss, aud, iat, exp and jti, then signs c. It returns the token and the final claims.
func (s *Service) Issue(c Claims, ttl time.Duration) (string, Claims, error) {
	now := s.now()
	c.Issuer, c.Audience = s.cfg.Issuer, s.cfg.Audience
	c.IssuedAt = now.Unix()
	c.ExpiresAt = now.Add(ttl).Unix()
	if c.ID == "" {
		c.ID = NewID()
	}
	var tok string
	var err error
	if s.signer != nil {
		t := jwt.NewWithClaims(s.signer.Method, &c)
		t.Header["kid"] = s.signer.ID
		tok, err = t.SignedString(s.signer.Private)
	} else {
		tok, err = jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(s.cfg.Secret)
	}
	if err != nil {
		return "", Claims{}, fmt.Errorf("tokens: sign: %w", err)
	}
	if s.cfg.OnIssue != nil {
		s.cfg.OnIssue(c.Type)
	}
	return tok, c, nil
}

// Verify checks signature, algorithm, issuer, audience and expiry, and that the type is one
// of types (any type when none is given).
func (s *Service) Verify(token string, types ...string) (*Claims, error) {
	if c := s.cache.get(token, s.now().Add(-s.cfg.Leeway).Unix()); c != nil {
		if len(types) > 0 && !contains(types, c.Type) {
			return nil, ErrType
		}
		return c, nil
	}
	c, err := s.parse(token)
	if err != nil {
		return nil, err
	}
	s.cache.put(token, c)
	if len(types) > 0 && !contains(types, c.Type) {
		return nil, ErrType
	}
	return c, nil
}

// parse does the full check: signature, algorithm, issuer, audience, expiry.
func (s *Service) parse(token string) (*Claims, error) {
	var c Claims
	_, err := s.parser.ParseWithClaims(token, &c, s.key)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrExpired
		}
		return nil, ErrInvalid
	}
	if c.Subject == "" || c.ID == "" || c.Type == "" {
		return nil, ErrInvalid
	}
	return &c, nil
}

// key pins the algorithm to the key: a kid selects a keyring key and the token must use that
// key's algorithm; no kid means HS256 with the secret. An RS256 public key can therefore never
// be used as an HMAC secret (the classic algorithm-confusion attack).
func (s *Service) key(t *jwt.Token) (any, error) {
	if kid, ok := t.Header["kid"].(string); ok && kid != "" {
		k, found := s.byKID[kid]
		if !found || t.Method.Alg() != k.Method.Alg() {
			return nil, ErrInvalid
		}
		return k.Public, nil
	}
	if len(s.cfg.Secret) == 0 || t.Method.Alg() != jwt.SigningMethodHS256.Alg() {
		return nil, ErrInvalid
	}
	return s.cfg.Secret, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// NewID returns a random 128-bit identifier for jti and session ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
