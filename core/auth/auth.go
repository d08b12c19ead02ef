// Package auth provides the reusable guards that modules put on routes: bearer authentication,
// role checks and MFA freshness. Handlers read the authenticated claims from the context.
package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Roles of the platform's principals.
const (
	RoleAdmin          = "admin"
	RoleOperator       = "operator"
	RoleNetworkManager = "network_manager"
	RoleConsumer       = "consumer"
	RoleDevice         = "device"
)

// Messages are FastAPI's, which existing clients may match on.
const (
	msgNotAuthenticated = "Not authenticated"
	msgBadCredentials   = "Could not validate credentials"
	msgForbidden        = "Not enough permissions"
	msgMFAStale         = "MFA verification required: verify a TOTP code within the freshness window"
)

type ctxKey struct{}

// Claims returns the bearer's verified claims; nil on a route without a bearer guard.
func Claims(ctx context.Context) *tokens.Claims {
	c, _ := ctx.Value(ctxKey{}).(*tokens.Claims)
	return c
}

// Guards builds guards over the token and session services.
type Guards struct {
	tok       *tokens.Service
	sess      *sessions.Service
	freshness time.Duration
}

// NewGuards builds Guards; freshness is the MFA window (mfa.freshness).
func NewGuards(tok *tokens.Service, sess *sessions.Service, freshness time.Duration) *Guards {
	return &Guards{tok: tok, sess: sess, freshness: freshness}
}

// Bearer admits a valid, unrevoked access token whose role is one of roles (any role when
// none is given): 401 without a valid token, 403 for another role.
func (g *Guards) Bearer(roles ...string) httpx.Guard {
	return func(r *http.Request) (*http.Request, error) {
		raw, ok := bearerToken(r)
		if !ok {
			return nil, httpx.Unauthorized(msgNotAuthenticated)
		}
		c, err := g.tok.Verify(raw, tokens.TypeAccess)
		if err != nil {
			return nil, httpx.Unauthorized(msgBadCredentials)
		}
		active, err := g.sess.Active(r.Context(), c)
		if err != nil {
			return nil, httpx.Unavailable("Session store unavailable", err)
		}
		if !active {
			return nil, httpx.Unauthorized(msgBadCredentials)
		}
		if len(roles) > 0 && !hasRole(roles, c.Role) {
			return nil, httpx.Forbidden(msgForbidden)
		}
		return r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)), nil
	}
}

// AdminMFAFresh admits an admin whose token carries a TOTP verification younger than the
// freshness window. It includes the bearer check, so a route needs only this guard.
func (g *Guards) AdminMFAFresh() httpx.Guard {
	bearer := g.Bearer(RoleAdmin)
	return func(r *http.Request) (*http.Request, error) {
		r, err := bearer(r)
		if err != nil {
			return nil, err
		}
		if !g.MFAFresh(Claims(r.Context())) {
			return nil, httpx.Forbidden(msgMFAStale)
		}
		return r, nil
	}
}

// MFAFresh reports whether c carries a TOTP verification younger than the freshness window
// (mfa.freshness), for checks made outside a guard (gateway forward-auth).
func (g *Guards) MFAFresh(c *tokens.Claims) bool {
	if c == nil || c.MFAVerifiedAt == nil {
		return false
	}
	return g.tok.Now().Sub(time.Unix(*c.MFAVerifiedAt, 0)) <= g.freshness
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func hasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}
