package operatortoken

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/verify"
)

// Verifier lets POST /tokens/verify accept operator session tokens.
type Verifier struct{ users *store.Users }

var _ verify.Verifier = (*Verifier)(nil)

// NewVerifier builds the verifier.
func NewVerifier(users *store.Users) *Verifier { return &Verifier{users: users} }

// Accepts recognises the token's prefix.
func (v *Verifier) Accepts(token string) bool { return strings.HasPrefix(token, TokenPrefix) }

// Verify looks the token up by its hash. A cleared token (users revoke-session, password reset)
// is gone from the row, so it stops verifying at once. The row keeps no device type; the
// operator's mode allows exactly one, which is reported.
func (v *Verifier) Verify(ctx context.Context, token string) (map[string]any, bool, error) {
	if len(token) != tokenLen {
		return nil, false, nil
	}
	u, err := v.users.BySessionTokenHash(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("operatortoken: verify: %w", err)
	}
	// A disabled operator's token is cleared with the disable; this holds should one remain.
	if u.Role != store.RoleOperator || u.Disabled() {
		return nil, false, nil
	}
	claims := map[string]any{
		"type":     TypeOperatorSession,
		"sub":      strconv.FormatInt(u.ID, 10),
		"role":     u.Role,
		"mode":     u.Mode,
		"dev_type": DevTypeOf(u.Mode),
	}
	if u.EventID != nil {
		claims["event_id"] = *u.EventID
	}
	return claims, true, nil
}
