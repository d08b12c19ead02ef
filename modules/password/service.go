package password

import (
	"context"
	"strconv"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
)

// Outcomes of a login attempt other than success, as the shared staff-credentials check
// reports them.
var ErrBadCredentials = core.ErrBadCredentials

// LockedError says the account is locked after repeated failures.
type LockedError = core.LockedError

// Service checks staff credentials and opens sessions.
type Service struct {
	creds    *core.StaffPasswords
	sessions *sessions.Service
}

// NewService builds the lane's service.
func NewService(creds *core.StaffPasswords, s *sessions.Service) *Service {
	return &Service{creds: creds, sessions: s}
}

// Login checks email, password and role (and the event an operator is bound to) and opens a
// session. Unknown e-mails cost the same hashing and count towards the same lock as known
// ones, so neither timing nor locking reveals whether an account exists.
func (s *Service) Login(ctx context.Context, email, password, role string, eventID *int64) (sessions.Pair, int64, error) {
	u, err := s.creds.Check(ctx, email, password)
	if err != nil {
		return sessions.Pair{}, 0, err
	}
	// The password was right: a role or event mismatch is refused with the same answer but
	// does not count as a guess.
	if u.Role != role {
		return sessions.Pair{}, 0, ErrBadCredentials
	}
	claimEvent := u.EventID
	if eventID != nil {
		if u.EventID != nil && *u.EventID != *eventID {
			return sessions.Pair{}, 0, ErrBadCredentials
		}
		claimEvent = eventID
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
