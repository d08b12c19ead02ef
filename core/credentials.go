package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/lockout"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Staff e-mail + password, checked the same way by every lane that takes them, under the
// per-account lock of NOTES.md that those lanes share.

// ErrBadCredentials covers an unknown e-mail and a wrong password (and, from a lane, an account
// it refuses, and a disabled account): every credential problem looks the same to the client.
var ErrBadCredentials = errors.New("bad credentials")

// LockedError says the account is locked after repeated failures.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return "account locked" }

// loginLockPrefix starts the lock's names of accounts.
const loginLockPrefix = "login:"

// Target names the account of email in the lock: an HMAC of the normalised address, so the
// state store (Redis keys, its dumps and monitors) holds no e-mail addresses.
func (l AccountLock) Target(email string) string {
	mac := hmac.New(sha256.New, l.targetKey)
	mac.Write([]byte(store.NormalizeEmail(email)))
	return loginLockPrefix + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// fullRetryAfter answers a guess the in-process store has no room to count (maxLockTargets):
// counters expire continuously, so room comes back well before a lock would end.
const fullRetryAfter = time.Minute

// StaffPasswords checks staff credentials.
type StaffPasswords struct {
	users  *store.Users
	hasher *passwords.Hasher
	lock   AccountLock
	m      *metrics.Metrics
	log    *zap.Logger
}

// staffPasswordsIn also takes the lanes that declared themselves with AccountLockLane.
type staffPasswordsIn struct {
	fx.In
	Users  *store.Users
	Hasher *passwords.Hasher
	Lock   AccountLock
	M      *metrics.Metrics
	Log    *zap.Logger
	Lanes  []lockLane `group:"lock_lanes"`
}

func newStaffPasswords(in staffPasswordsIn) *StaffPasswords {
	for _, lane := range in.Lanes {
		in.M.LockoutLane(string(lane))
	}
	return &StaffPasswords{users: in.Users, hasher: in.Hasher, lock: in.Lock, m: in.M, log: in.Log.Named("credentials")}
}

// lockLane names a lane that checks staff passwords here.
type lockLane string

// AccountLockLane declares that lane (a module name, the first part of its route names) checks
// staff passwords here, so that its cashless_auth_lockouts_total series exists from the first
// scrape. Like a module's other contributions it only supplies a value.
func AccountLockLane(lane string) fx.Option {
	return fx.Supply(fx.Annotate(lockLane(lane), fx.ResultTags(`group:"lock_lanes"`)))
}

// Check returns the account when the password is right. The guess is counted against the
// account's lock before anything is looked up or hashed (lockout.Locker.Reserve), so the lock
// holds however many guesses arrive at once, from however many IPs: a locked account is a
// *LockedError, answered without hashing. An unknown e-mail or a wrong password stays counted
// and is ErrBadCredentials, and unknown e-mails cost the same hashing, so neither timing nor
// locking reveals whether an account exists. A request that ends before its password was
// evaluated (a store error, a deadline, the client gone while queued for a hashing worker) is
// no guess and is uncounted.
//
// A right password returns the account with its guess still counted: the lane checks what else
// it requires (role, event, device type), then calls exactly one of Accept (success: clears the
// failures), Reject (refused like a wrong password and counted like one) or Refuse (refused,
// but no guess: uncounted). A lane that calls none leaves it counted, never uncounted.
func (s *StaffPasswords) Check(ctx context.Context, email, password string) (*Verified, error) {
	target := s.lock.Target(email)
	att, wait, err := s.lock.Reserve(ctx, target)
	if errors.Is(err, state.ErrFull) {
		return nil, &LockedError{RetryAfter: fullRetryAfter}
	}
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, &LockedError{RetryAfter: wait}
	}
	u, err := s.users.ByEmail(ctx, store.NormalizeEmail(email))
	var ok, rehash bool
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = s.hasher.Equalise(ctx, password)
	case err != nil:
		err = fmt.Errorf("credentials: load user: %w", err)
	case u.Disabled():
		// Refused like a wrong password, at the same cost and counted the same, so that
		// neither the answer, its timing nor the lock tells that the account exists.
		err = s.hasher.Equalise(ctx, password)
	default:
		ok, rehash, err = s.hasher.Verify(ctx, u.PasswordHash, password)
	}
	if err != nil {
		s.release(ctx, att)
		return nil, err
	}
	if !ok {
		s.failed(ctx, att, u.ID)
		return nil, ErrBadCredentials
	}
	return &Verified{User: u, s: s, att: att, target: target, password: password, rehash: rehash}, nil
}

// failed settles a counted guess as a failure: if it started a lock, that lock is counted, by
// the lane of the request, and logged with the account (userID 0: no such account).
func (s *StaffPasswords) failed(ctx context.Context, att lockout.Attempt, userID int64) {
	d := att.Locked()
	if d == 0 {
		return
	}
	sctx, cancel := bookkeeping(ctx)
	if err := att.Fail(sctx); err != nil {
		s.log.Warn("settling a failed password attempt failed; its lock holds all the same", zap.Error(err))
	}
	cancel()
	lane := "unknown"
	if ri := httpx.Route(ctx); ri != nil {
		lane, _, _ = strings.Cut(ri.Name, ".")
	}
	s.m.Lockout(lane)
	if userID != 0 {
		s.log.Warn("account locked after repeated failed passwords", zap.Int64("user_id", userID),
			zap.String("lane", lane), zap.Duration("lock", d))
	}
}

// release uncounts a guess that was none. It runs even when the request's context has ended; if
// it fails, the guess stays counted, which costs the account one failure, never an extra guess.
func (s *StaffPasswords) release(ctx context.Context, att lockout.Attempt) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := att.Release(ctx); err != nil {
		s.log.Warn("uncounting a password attempt failed; it stays counted", zap.Error(err))
	}
}

// bookkeepingTimeout bounds the lock updates that follow a decision already taken.
const bookkeepingTimeout = 5 * time.Second

// bookkeeping is ctx without its cancellation: once a password was judged, the lock must follow
// the judgement even when the client has gone.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
}

// Verified is an account whose password was right; its guess stays counted until the lane
// calls Accept, Reject or Refuse.
type Verified struct {
	store.User
	s        *StaffPasswords
	att      lockout.Attempt
	target   string
	password string
	rehash   bool
}

// Accept clears the account's failures and replaces a legacy bcrypt or weaker argon2id hash
// (a failed upgrade only costs the upgrade, never the login).
func (v *Verified) Accept(ctx context.Context) error {
	rctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := v.s.lock.Reset(rctx, v.target); err != nil {
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
// towards the lock exactly as a wrong password does (the guess Check counted stays, with the
// lock it started), so neither the answer nor the lock tells the client the password was
// right; it returns nil, or the lock's storage error.
func (v *Verified) Reject(ctx context.Context) error {
	v.s.failed(ctx, v.att, v.ID)
	return nil
}

// Refuse refuses an account whose password was right for a reason that is no guess (a role or
// device type the account does not have): the guess Check counted is uncounted, so the lock
// stays as it was. It returns ErrBadCredentials, the lane's answer.
func (v *Verified) Refuse(ctx context.Context) error {
	v.s.release(ctx, v.att)
	return ErrBadCredentials
}
