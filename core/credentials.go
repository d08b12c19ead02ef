package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Staff e-mail + password, checked the same way by every lane that takes them, under the
// per-account lock of NOTES.md that those lanes share.

// ErrBadCredentials covers an unknown e-mail and a wrong password (and, from a lane, an account
// it refuses): every credential problem looks the same to the client.
var ErrBadCredentials = errors.New("bad credentials")

// LockedError says the account is locked after repeated failures.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return "account locked" }

// LoginLockTarget names an account in the shared lock.
func LoginLockTarget(email string) string { return "login:" + store.NormalizeEmail(email) }

// StaffPasswords checks staff credentials.
type StaffPasswords struct {
	users  *store.Users
	hasher *passwords.Hasher
	lock   AccountLock
	log    *zap.Logger
}

func newStaffPasswords(users *store.Users, hasher *passwords.Hasher, lock AccountLock, log *zap.Logger) *StaffPasswords {
	return &StaffPasswords{users: users, hasher: hasher, lock: lock, log: log.Named("credentials")}
}

// Check returns the account when the password is right. A locked account is a *LockedError;
// an unknown e-mail or a wrong password counts towards the lock and is ErrBadCredentials, and
// unknown e-mails cost the same hashing, so neither timing nor locking reveals whether an
// account exists. A right password leaves the lock as it is: the lane checks what else it
// requires (role, event, device type), and only then calls Accept, so a refusal for those
// reasons does not clear the failures; it counts as a guess only when the lane calls Reject.
func (s *StaffPasswords) Check(ctx context.Context, email, password string) (*Verified, error) {
	target := LoginLockTarget(email)
	if wait, locked, err := s.lock.Locked(ctx, target); err != nil {
		return nil, err
	} else if locked {
		return nil, &LockedError{RetryAfter: wait}
	}
	u, err := s.users.ByEmail(ctx, store.NormalizeEmail(email))
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.Equalise(ctx, password)
		return nil, s.fail(ctx, target)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: load user: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.fail(ctx, target)
	}
	return &Verified{User: u, s: s, target: target, password: password, rehash: rehash}, nil
}

func (s *StaffPasswords) fail(ctx context.Context, target string) error {
	if _, err := s.lock.Fail(ctx, target); err != nil {
		return err
	}
	return ErrBadCredentials
}

// Verified is an account whose password was right.
type Verified struct {
	store.User
	s        *StaffPasswords
	target   string
	password string
	rehash   bool
}

// Accept clears the account's failures and replaces a legacy bcrypt or weaker argon2id hash
// (a failed upgrade only costs the upgrade, never the login).
func (v *Verified) Accept(ctx context.Context) error {
	if err := v.s.lock.Reset(ctx, v.target); err != nil {
		return err
	}
	if v.rehash {
		h, err := v.s.hasher.Hash(ctx, v.password)
		if err == nil {
			err = v.s.users.UpdatePasswordHash(ctx, v.ID, h)
		}
		if err != nil {
			v.s.log.Warn("password hash upgrade failed", zap.Int64("user_id", v.ID), zap.Error(err))
		}
	}
	return nil
}

// Reject refuses an account whose password was right for a reason the lane must answer like a
// wrong password (POST /auth/login asking for an event the account may not have). It counts
// towards the lock exactly as a wrong password does, so neither the answer nor the lock tells
// the client the password was right; it returns nil, or the lock's storage error.
func (v *Verified) Reject(ctx context.Context) error {
	if err := v.s.fail(ctx, v.target); !errors.Is(err, ErrBadCredentials) {
		return err
	}
	return nil
}
