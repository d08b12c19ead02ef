package verify

import (
	"context"
	"strings"

	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Checker verifies any credential the platform issues: its own JWTs (signature, type, then the
// live session and the subject's not-before time) and, through the contributed Verifiers, the
// opaque ones. POST /tokens/verify and the gateway forward-auth both ask it, so a revocation
// (logout, a revoked API key) is refused by both at once, through the same caches.
type Checker struct {
	tok       *tokens.Service
	sess      *sessions.Service
	verifiers []Verifier
}

// NewChecker builds a Checker over the core's token and session services and the verifiers
// the enabled modules contribute (the Group value group).
func NewChecker(tok *tokens.Service, sess *sessions.Service, verifiers []Verifier) *Checker {
	return &Checker{tok: tok, sess: sess, verifiers: verifiers}
}

// Result is a check's outcome. A valid JWT sets JWT (shared between requests: read only); a
// valid opaque credential sets Claims, as its Verifier reported them.
type Result struct {
	Valid  bool
	JWT    *tokens.Claims
	Claims map[string]any
}

// Check verifies token. An invalid, expired or revoked token is a Result with Valid false; err
// is only for an unavailable dependency (state store, database), which callers must not treat
// as a refusal of the token.
func (c *Checker) Check(ctx context.Context, token string) (Result, error) {
	if strings.Count(token, ".") == 2 {
		claims, err := c.tok.Verify(token, tokens.TypeAccess, tokens.TypeRefresh, tokens.TypeOffline)
		if err != nil {
			return Result{}, nil
		}
		active, err := c.sess.Active(ctx, claims)
		if err != nil || !active {
			return Result{}, err
		}
		return Result{Valid: true, JWT: claims}, nil
	}
	for _, v := range c.verifiers {
		if !v.Accepts(token) {
			continue
		}
		claims, ok, err := v.Verify(ctx, token)
		if err != nil || !ok {
			return Result{}, err
		}
		return Result{Valid: true, Claims: claims}, nil
	}
	return Result{}, nil
}
