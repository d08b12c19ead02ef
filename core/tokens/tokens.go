// Package tokens issues and verifies the platform's JWTs with a pinned algorithm, issuer,
// audience and type, as docs/contract/NOTES.md ("Tokens") requires.
package tokens

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
	// NotBefore is never set by Issue; another holder of the key may post-date a token, and
	// RFC 7519 §4.1.5 makes it unusable before then.
	NotBefore int64 `json:"nbf,omitempty"`

	raw   []byte // JSON of these claims, kept with verified tokens
	hs256 bool   // signed with the HS256 secret: accepted only while Service.hs256Allowed
	// validFrom is the later of iat and nbf, so the cache of verified tokens refuses a token
	// before it exactly as parse does, should the clock step back.
	validFrom int64
}

// maxNumericDate (9999-12-31T23:59:59Z) bounds the time claims: time.Unix wraps larger second
// counts into the distant past, which would turn an nbf of 2^63-1 into one long gone.
const maxNumericDate = 253402300799

// errDateRange is a time claim beyond maxNumericDate.
var errDateRange = errors.New("tokens: time claim out of range")

// JSON returns the claims as JSON. Claims returned by Verify are shared between requests and
// must not be modified.
func (c *Claims) JSON() ([]byte, error) {
	if c.raw != nil {
		return c.raw, nil
	}
	return json.Marshal(c)
}

// claimsFolded says whether a token's claims name one of ours in another case ("Sub", "EXP").
// Claim names are case-sensitive (RFC 7519 §4), but encoding/json matches a field's name in any
// case, so {"sub":"1","Sub":"2"} read as subject 2 here and as subject 1 in other JWT
// libraries, and {"exp":<past>,"EXP":<future>} as unexpired. Of duplicate exact names the last
// wins, as RFC 7519 allows and other JSON readers do. The claims segment is decoded again rather
// than inside an UnmarshalJSON, where encoding/json would scan it three more times; the parser
// has checked it is base64url and a JSON object.
func claimsFolded(token string) bool {
	_, rest, _ := strings.Cut(token, ".")
	seg, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err != nil || foldedClaimName(b)
}

// claimNames are the names Claims reads.
var claimNames = [...]string{"sub", "type", "role", "jti", "iat", "exp", "iss", "aud", "event_id",
	"device_id", "mfa_verified_at", "operator_id", "sid", "nbf"}

// foldedClaimName says whether the JSON object b, already known valid, has a member name equal
// to one of claimNames under encoding/json's case folding (bytes.EqualFold) but not exactly.
// It walks the top level only, without allocating unless a name has escapes.
func foldedClaimName(b []byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return false // "}" of an empty object, or the end
		}
		end, escaped := stringEnd(b, i)
		name := b[i+1 : end-1]
		if escaped {
			var s string
			if json.Unmarshal(b[i:end], &s) != nil {
				return true
			}
			name = []byte(s)
		}
		if !isClaimName(name) {
			for _, want := range claimNames {
				if bytes.EqualFold(name, []byte(want)) {
					return true
				}
			}
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the ':'
		i = valueEnd(b, i)
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ',' {
			return false
		}
		i++
	}
}

// isClaimName is the exact match of claimNames, without the folding loop (most names are ours).
func isClaimName(name []byte) bool {
	switch string(name) {
	case "sub", "type", "role", "jti", "iat", "exp", "iss", "aud", "event_id", "device_id",
		"mfa_verified_at", "operator_id", "sid", "nbf":
		return true
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"' and whether it has
// escapes.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i + 1, escaped
		}
	}
	return len(b), escaped
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i, _ = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// GetExpirationTime implements jwt.Claims.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}

// GetNotBefore implements jwt.Claims.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) {
	if c.NotBefore == 0 {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(c.NotBefore, 0)), nil
}

// Validate implements jwt.ClaimsValidator: it refuses the time claims the getters above cannot
// represent.
func (c *Claims) Validate() error {
	if c.ExpiresAt > maxNumericDate || c.IssuedAt > maxNumericDate || c.NotBefore > maxNumericDate {
		return errDateRange
	}
	return nil
}

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
	// OfflineHS256 keeps signing offline tokens with the HS256 secret, for a POS fleet whose
	// software still verifies them with it. Otherwise offline tokens are signed by the active
	// keyring key or, without one, by the key derived from the secret (DeriveOfflineKey).
	OfflineHS256 bool
	// HS256Until: with an active keyring key, HS256 tokens are accepted only before this time
	// (zero: not at all), for the switch from the secret to the keyring. Offline tokens are
	// also accepted while OfflineHS256 is on.
	HS256Until time.Time
	Issuer     string
	// AcceptedIssuers are further iss values a token may carry: the previous issuer while
	// tokens issued under it are still valid, so that changing Issuer logs nobody out. Tokens
	// are always issued with Issuer.
	AcceptedIssuers []string
	Audience        string
	Leeway          time.Duration
	OnIssue         func(tokenType string) // observability hook, may be nil
}

// Service signs and verifies tokens. It is safe for concurrent use.
type Service struct {
	cfg    Config
	parser *jwt.Parser
	now    func() time.Time
	byKID  map[string]Key
	signer *Key // nil: HS256 with cfg.Secret
	// offline signs offline tokens; nil: HS256 with cfg.Secret.
	offline *Key
	jwks    []byte
	cache   *verified
	// leewaySec is the leeway in whole seconds, -1 when it has a fraction.
	leewaySec int64
	// issuers are the iss values Verify accepts: Issuer and AcceptedIssuers.
	issuers map[string]bool
}

// New builds a Service. The HS256 secret, when given, must be at least 32 bytes; the offline
// key derived from it (DeriveOfflineKey) joins the keyring.
func New(cfg Config) (*Service, error) {
	if len(cfg.Secret) > 0 && len(cfg.Secret) < 32 {
		return nil, fmt.Errorf("tokens: secret must be at least 32 bytes, got %d", len(cfg.Secret))
	}
	if cfg.Issuer == "" {
		// jwt's WithIssuer skipped the check for "": refuse it rather than accept any iss.
		return nil, errors.New("tokens: issuer must not be empty")
	}
	keys := cfg.Keys
	var derived *Key
	if len(cfg.Secret) > 0 {
		k, err := DeriveOfflineKey(cfg.Secret)
		if err != nil {
			return nil, err
		}
		derived = &k
		keys = append(append([]Key(nil), cfg.Keys...), k)
	}
	s := &Service{cfg: cfg, now: time.Now, byKID: map[string]Key{}, jwks: buildJWKS(keys), cache: newVerified(), leewaySec: -1,
		issuers: map[string]bool{cfg.Issuer: true}}
	for _, iss := range cfg.AcceptedIssuers {
		s.issuers[iss] = true
	}
	if cfg.Leeway%time.Second == 0 {
		s.leewaySec = int64(cfg.Leeway / time.Second)
	}
	algs := map[string]bool{}
	if len(cfg.Secret) > 0 {
		algs[jwt.SigningMethodHS256.Alg()] = true
	}
	for _, k := range keys {
		if _, dup := s.byKID[k.ID]; dup {
			return nil, fmt.Errorf("tokens: kid %q names two keys (a keyring file is named like the derived offline key)", k.ID)
		}
		s.byKID[k.ID] = k
		algs[k.Method.Alg()] = true
	}
	if cfg.ActiveKID != "" {
		k, ok := s.byKID[cfg.ActiveKID]
		if !ok || k.Private == nil || k.OnlyType != "" {
			return nil, fmt.Errorf("tokens: active kid %q has no private key in the keyring", cfg.ActiveKID)
		}
		s.signer = &k
	} else if len(cfg.Secret) == 0 {
		return nil, errors.New("tokens: no signing key: set the HS256 secret or an active kid")
	}
	switch {
	case cfg.OfflineHS256:
		if len(cfg.Secret) == 0 {
			return nil, errors.New("tokens: HS256 offline tokens need the HS256 secret")
		}
	case s.signer != nil:
		s.offline = s.signer
	default:
		s.offline = derived
	}
	valid := make([]string, 0, len(algs))
	for a := range algs {
		valid = append(valid, a)
	}
	s.parser = jwt.NewParser(
		jwt.WithValidMethods(valid),
		// No WithIssuer: it pins one value, and parse accepts any of s.issuers.
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		// A signature's last character carries unused bits (2 of 6 for HS256); lax decoding
		// ignores them, giving every token three more spellings. See compactJWS.
		jwt.WithStrictDecoding(),
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
	signer := s.signer
	if c.Type == TypeOffline {
		signer = s.offline
	}
	var tok string
	var err error
	if signer != nil {
		t := jwt.NewWithClaims(signer.Method, &c)
		t.Header["kid"] = signer.ID
		tok, err = t.SignedString(signer.Private)
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

// Verify checks signature, algorithm, issuer, audience, expiry, issue and not-before times and
// the header's crit, and that the type is one of types (any type when none is given).
func (s *Service) Verify(token string, types ...string) (*Claims, error) {
	late, early := s.window()
	if c := s.cache.get(token, late, early); c != nil {
		if c.hs256 && !s.hs256Allowed(c.Type) {
			return nil, ErrInvalid
		}
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

// window is now minus and plus the leeway, in unix seconds rounded down: for whole-second
// claims, the bounds that decide as parse's comparisons do.
func (s *Service) window() (late, early int64) {
	now := s.now()
	if s.leewaySec >= 0 {
		u := now.Unix()
		return u - s.leewaySec, u + s.leewaySec
	}
	return now.Add(-s.cfg.Leeway).Unix(), now.Add(s.cfg.Leeway).Unix()
}

// parse does the full check: signature, algorithm, header, issuer, audience, times.
func (s *Service) parse(token string) (*Claims, error) {
	if !compactJWS(token) {
		return nil, ErrInvalid
	}
	var c Claims
	t, err := s.parser.ParseWithClaims(token, &c, s.key)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrExpired
		}
		return nil, ErrInvalid
	}
	if c.Subject == "" || c.ID == "" || c.Type == "" || !s.issuers[c.Issuer] || claimsFolded(token) {
		return nil, ErrInvalid
	}
	c.hs256 = t.Method == jwt.SigningMethodHS256
	c.validFrom = max(c.IssuedAt, c.NotBefore)
	return &c, nil
}

// compactJWS says whether token holds only what a compact JWS can: base64url and dots. The
// base64 decoder skips CR and LF, so a line break in the signature, which the signature does
// not cover, would otherwise give a valid token a second spelling: anything keyed by a
// token's text (the cache of verified tokens, a gateway's, a deny-list) would miss it.
func compactJWS(token string) bool {
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// key pins the algorithm to the key: a kid selects a keyring key and the token must use that
// key's algorithm (and type, for a key limited to one); no kid means HS256 with the secret,
// where hs256Allowed permits it. An RS256 public key can therefore never be used as an HMAC
// secret (the classic algorithm-confusion attack). The claims are decoded when this runs.
//
// It also refuses any crit header: we implement no JWS extension, and RFC 7515 §4.1.11 makes a
// listed extension the recipient does not understand, an empty list and a malformed one all a
// refusal. A kid that is present but not a non-empty string is malformed, never "no kid".
func (s *Service) key(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, ErrInvalid
	}
	typ := ""
	if c, ok := t.Claims.(*Claims); ok {
		typ = c.Type
	}
	if v, ok := t.Header["kid"]; ok {
		kid, _ := v.(string)
		k, found := s.byKID[kid]
		if kid == "" || !found || t.Method.Alg() != k.Method.Alg() || (k.OnlyType != "" && typ != k.OnlyType) {
			return nil, ErrInvalid
		}
		return k.Public, nil
	}
	if len(s.cfg.Secret) == 0 || t.Method.Alg() != jwt.SigningMethodHS256.Alg() || !s.hs256Allowed(typ) {
		return nil, ErrInvalid
	}
	return s.cfg.Secret, nil
}

// hs256Allowed says whether an HS256 token of type typ is accepted now. Without an active
// keyring key HS256 is how tokens are signed. With one, every holder of the secret could mint
// tokens the keyring's verifiers never see, so HS256 is accepted only during a switch
// (HS256Until) and, for offline tokens, while a fleet still needs them (OfflineHS256).
func (s *Service) hs256Allowed(typ string) bool {
	if s.signer == nil {
		return true
	}
	if typ == TypeOffline && s.cfg.OfflineHS256 {
		return true
	}
	return s.now().Before(s.cfg.HS256Until)
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
