package password

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Outcomes of a login attempt other than success. A wrong password is a value, not a failure
// of the service; every credential problem looks the same to the client.
var (
	ErrBadCredentials = errors.New("password: bad credentials")
)

// LockedError says the account is locked after repeated failures.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return "password: account locked" }

// Service checks staff credentials and opens sessions.
type Service struct {
	users    *store.Users
	hasher   *passwords.Hasher
	lock     core.AccountLock
	sessions *sessions.Service
	log      *zap.Logger
}

// NewService builds the lane's service.
func NewService(users *store.Users, hasher *passwords.Hasher, lock core.AccountLock, s *sessions.Service, log *zap.Logger) *Service {
	return &Service{users: users, hasher: hasher, lock: lock, sessions: s, log: log.Named("password")}
}

// Login checks email, password and role (and the event an operator is bound to) and opens a
// session. Unknown e-mails cost the same hashing and count towards the same lock as known
// ones, so neither timing nor locking reveals whether an account exists.
func (s *Service) Login(ctx context.Context, email, password, role string, eventID *int64) (sessions.Pair, int64, error) {
	pair, id, err := s.login(ctx, email, password, role, eventID)
	if err != nil {
		return sessions.Pair{}, 0, err
	}
	return pair, id, nil
}

func (s *Service) login(ctx context.Context, email, password, role string, eventID *int64) (sessions.Pair, int64, error) {
	email = store.NormalizeEmail(email)
	target := "login:" + email
	if wait, locked, err := s.lock.Locked(ctx, target); err != nil {
		return sessions.Pair{}, 0, err
	} else if locked {
		return sessions.Pair{}, 0, &LockedError{RetryAfter: wait}
	}
	u, err := s.users.ByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.Equalise(ctx, password)
		return sessions.Pair{}, 0, s.fail(ctx, target)
	}
	if err != nil {
		return sessions.Pair{}, 0, fmt.Errorf("password: load user: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return sessions.Pair{}, 0, err
	}
	if !ok {
		return sessions.Pair{}, 0, s.fail(ctx, target)
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
	if err := s.lock.Reset(ctx, target); err != nil {
		return sessions.Pair{}, 0, err
	}
	if rehash {
		s.upgradeHash(ctx, u.ID, password)
	}
	pair, err := s.sessions.Start(ctx, sessions.Principal{Subject: strconv.FormatInt(u.ID, 10), Role: u.Role, EventID: claimEvent})
	return pair, u.ID, err
}

func (s *Service) fail(ctx context.Context, target string) error {
	if _, err := s.lock.Fail(ctx, target); err != nil {
		return err
	}
	return ErrBadCredentials
}

// upgradeHash replaces a legacy bcrypt or weaker argon2id hash; failure only costs the
// upgrade, never the login.
func (s *Service) upgradeHash(ctx context.Context, id int64, password string) {
	h, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.users.UpdatePasswordHash(ctx, id, h)
	}
	if err != nil {
		s.log.Warn("password hash upgrade failed", zap.Int64("user_id", id), zap.Error(err))
	}
}
