package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// eventBinding is sessions.Config.Binding: the event_id a staff token carries is the account's
// binding (NOTES.md, "Hardening decisions"), and a refresh re-reads it, so a session opened
// before the rule (a client-chosen event, kept by v0.1.0's refreshes) or before the binding
// changed stops at its next refresh instead of carrying that event on, into offline tokens too.
// A refresh of a token carrying an event costs one query; of one carrying none, none.
type eventBinding struct{ users *store.Users }

// Check implements sessions.Binding.
func (b eventBinding) Check(ctx context.Context, p sessions.Principal) error {
	if p.EventID == nil || !store.ValidRole(p.Role) {
		return nil
	}
	id, err := strconv.ParseInt(p.Subject, 10, 64)
	if err != nil {
		return sessions.ErrRevoked
	}
	u, err := b.users.ByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sessions.ErrRevoked
	}
	if err != nil {
		return fmt.Errorf("core: load the account of a refresh: %w", err)
	}
	switch {
	case u.Role != p.Role:
		return sessions.ErrRevoked
	case u.EventID != nil && *u.EventID != *p.EventID:
		return sessions.ErrRevoked
	case u.EventID == nil && u.Role != store.RoleAdmin:
		return sessions.ErrRevoked // an unbound operator or network manager carries no event
	}
	// An unbound admin may carry any existing event, and events are never deleted.
	return nil
}
