package password

import (
	"context"
	"fmt"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Outcomes of a login attempt other than success, as the shared staff-credentials check
// reports them.
var ErrBadCredentials = core.ErrBadCredentials

// ErrEventRefused is a right password asking for an event the account may not have in its
// token; it is a bad credential to the client (errors.Is(err, ErrBadCredentials) holds).
var ErrEventRefused = fmt.Errorf("%w: event not allowed for the account", ErrBadCredentials)

// LockedError says the account is locked after repeated failures.
type LockedError = core.LockedError

// Service checks staff credentials and opens sessions.
type Service struct {
	creds    *core.StaffPasswords
	sessions *sessions.Service
	events   *store.Events
}

// NewService builds the lane's service.
func NewService(creds *core.StaffPasswords, s *sessions.Service, events *store.Events) *Service {
	return &Service{creds: creds, sessions: s, events: events}
}

// Login checks email, password, role and the requested event (tokenEvent) and opens a
// session. Unknown e-mails cost the same hashing and count towards the same lock as known
// ones, so neither timing nor locking reveals whether an account exists.
func (s *Service) Login(ctx context.Context, email, password, role string, eventID *int64) (sessions.Pair, int64, error) {
	// Whether a requested event exists is looked up before the password is checked, whatever
	// the account, so a right and a wrong password cost the same work.
	eventExists := false
	if eventID != nil {
		ok, err := s.events.Exists(ctx, *eventID)
		if err != nil {
			return sessions.Pair{}, 0, fmt.Errorf("password: load event: %w", err)
		}
		eventExists = ok
	}
	u, err := s.creds.Check(ctx, email, password)
	if err != nil {
		return sessions.Pair{}, 0, err
	}
	// The password was right: a role mismatch is refused with the same answer but is no guess
	// (Refuse uncounts it); an event refused below counts as one (Reject).
	if u.Role != role {
		return sessions.Pair{}, 0, u.Refuse(ctx)
	}
	claimEvent, ok := tokenEvent(u.User, eventID, eventExists)
	if !ok {
		// Refused like a wrong password, and counted like one: otherwise the lock would tell
		// a client sending a bad event_id whether the password was right.
		if err := u.Reject(ctx); err != nil {
			return sessions.Pair{}, 0, err
		}
		return sessions.Pair{}, 0, ErrEventRefused
	}
	if err := u.Accept(ctx); err != nil {
		return sessions.Pair{}, 0, err
	}
	pair, err := s.sessions.Start(ctx, sessions.Principal{Subject: strconv.FormatInt(u.ID, 10), Role: u.Role, EventID: claimEvent})
	if err != nil {
		return sessions.Pair{}, 0, err
	}
	return pair, u.ID, nil
}

// tokenEvent is the event_id of u's tokens when it asked for requested (NOTES.md, "Hardening
// decisions"): the server-side binding, never the client's choice. A bound account gets its
// binding, and may name only it; an unbound admin may name any existing event; an unbound
// operator or network manager may name none. Without a request an unbound account logs in
// without an event, as before the rule. ok is false when the request must be refused.
func tokenEvent(u store.User, requested *int64, requestedExists bool) (*int64, bool) {
	switch {
	case requested == nil:
		return u.EventID, true
	case !requestedExists:
		return nil, false
	case u.EventID != nil:
		return u.EventID, *u.EventID == *requested
	case u.Role == store.RoleAdmin:
		return requested, true
	}
	return nil, false
}
