// Package verify is the extension point of POST /tokens/verify: the core verifies its own
// JWTs, and modules contribute verifiers for the opaque credentials they issue (API keys,
// legacy operator session tokens) through the "token_verifiers" value group.
package verify

import "context"

// Group is the fx value-group tag modules use to contribute a Verifier.
const Group = `group:"token_verifiers"`

// Verifier checks one kind of credential.
type Verifier interface {
	// Accepts tells cheaply (by prefix or shape) whether token is of this verifier's kind.
	Accepts(token string) bool
	// Verify returns the claims to report when valid; valid=false for unknown or revoked tokens.
	Verify(ctx context.Context, token string) (claims map[string]any, valid bool, err error)
}
