// Package notbefore is the one revocation primitive of docs/contract/NOTES.md ("Hardening
// decisions"): a durable per-subject "not before" time. Every token of a subject — a staff user
// or a POS device — whose iat is at or before that time is refused by POST /tokens/verify and by
// every bearer guard, whatever the token's type (access, refresh, offline). The time lives in the
// database, which is the truth (a Redis flush or restart cannot un-revoke anything); each replica
// caches it per subject (core/revocation, filled on a miss, entries expiring after
// redis.cache_ttl) and a revocation is pushed to every replica's cache, which confirm before it
// returns, as API-key revocations are. The steady state costs no round trip per check.
//
// Whole seconds. A token's iat is whole seconds, so a revocation at 12:00:00.300 has to refuse
// the tokens issued from 12:00:00.000 to .300: it stores the second it happened in, and a token
// whose iat is that second or earlier is refused. A token issued in the rest of that second
// cannot be told apart and is refused too; Revoke therefore returns only once the clock has left
// that second, so whatever is issued after a revocation has answered — the new login of a user
// who just reset a password, a device logging in again — works. A login that races the
// revocation, in the same second on another replica, gets a token that is refused at once, and
// the user logs in again: refusing a token issued just before a revocation matters more. This
// assumes the replicas' clocks agree (NTP) to well under a second.
package notbefore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Channels on which the replicas' caches learn of revocations.
const (
	UserChannel   = "revoked:not_before:user"
	DeviceChannel = "revoked:not_before:device"
)

// roleDevice is auth.RoleDevice (core/auth depends on core/sessions, which depends on this
// package).
const roleDevice = "device"

// ErrNoSubject reports a role whose tokens no not-before time applies to (consumers).
var ErrNoSubject = errors.New("notbefore: the role has no revocable subject")

// Service checks and sets not-before times. It is safe for concurrent use.
type Service struct {
	repo *store.TokenNotBefore
	// users and devices cache the times by decimal id (a token's sub as it is, so the hot path
	// builds no key); nil caches nothing and pushes nothing.
	users, devices *revocation.Cache[int64]
	now            func() time.Time
}

// New builds a Service over repo with the given caches (nil: no cache, no push: a command run
// without the shared state store, whose revocation the replicas then see when their cached
// entries expire).
func New(repo *store.TokenNotBefore, users, devices *revocation.Cache[int64]) *Service {
	return &Service{repo: repo, users: users, devices: devices, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// KindOf returns the kind of subject a token of role belongs to: store.SubjectUser for staff,
// store.SubjectDevice for devices, "" for roles no not-before time applies to (consumers).
func KindOf(role string) string {
	switch {
	case role == roleDevice:
		return store.SubjectDevice
	case store.ValidRole(role):
		return store.SubjectUser
	}
	return ""
}

// Revoked reports whether c was issued at or before its subject's not-before time, or, for a
// token bound to a device (an offline token naming device_id), at or before that device's.
func (s *Service) Revoked(ctx context.Context, c *tokens.Claims) (bool, error) {
	switch KindOf(c.Role) {
	case store.SubjectDevice:
		return s.before(ctx, store.SubjectDevice, c.Subject, c.IssuedAt)
	case store.SubjectUser:
		revoked, err := s.before(ctx, store.SubjectUser, c.Subject, c.IssuedAt)
		if revoked || err != nil || c.DeviceID == nil {
			return revoked, err
		}
		return s.before(ctx, store.SubjectDevice, strconv.FormatInt(*c.DeviceID, 10), c.IssuedAt)
	}
	return false, nil
}

// before reports whether iat is at or before the not-before time of subject sub of kind.
func (s *Service) before(ctx context.Context, kind, sub string, iat int64) (bool, error) {
	t, err := s.get(ctx, kind, sub)
	if err != nil {
		return false, err
	}
	return t != 0 && iat <= t, nil
}

// get returns the subject's time (0: none) from the cache, or from the database on a miss. No
// time is a value too, cached like any other: the steady state queries nothing.
func (s *Service) get(ctx context.Context, kind, sub string) (int64, error) {
	fetch := func(ctx context.Context) (int64, bool, error) {
		id, err := strconv.ParseInt(sub, 10, 64)
		if err != nil {
			return 0, true, nil // names no subject of this kind: nothing was ever revoked
		}
		t, err := s.repo.Get(ctx, kind, id)
		if err != nil {
			return 0, false, fmt.Errorf("notbefore: %w", err)
		}
		return t, true, nil
	}
	c := s.cache(kind)
	if c == nil {
		t, _, err := fetch(ctx)
		return t, err
	}
	t, _, err := c.Load(ctx, sub, fetch)
	return t, err
}

func (s *Service) cache(kind string) *revocation.Cache[int64] {
	if kind == store.SubjectDevice {
		return s.devices
	}
	return s.users
}

// Revoke ends every token of the subject issued until now. It raises the subject's time to the
// current second in the database, pushes it to every replica (returning once they confirmed,
// or after revocation.Cache's wait for one that does not), and returns once the clock has left
// that second, so that a token issued after Revoke has returned is not refused (package doc).
func (s *Service) Revoke(ctx context.Context, kind string, id int64) error {
	at := s.now().Unix()
	if _, err := s.repo.Raise(ctx, kind, id, at); err != nil {
		return fmt.Errorf("notbefore: %w", err)
	}
	if c := s.cache(kind); c != nil {
		if err := c.Revoke(ctx, strconv.FormatInt(id, 10)); err != nil {
			return fmt.Errorf("notbefore: push revocation: %w", err)
		}
	}
	if wait := time.Unix(at+1, 0).Sub(s.now()); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// RevokeSubject is Revoke for the subject of a token with role and sub: ErrNoSubject for a
// role no not-before time applies to.
func (s *Service) RevokeSubject(ctx context.Context, role, sub string) error {
	kind := KindOf(role)
	if kind == "" {
		return fmt.Errorf("%w: %q", ErrNoSubject, role)
	}
	id, err := strconv.ParseInt(sub, 10, 64)
	if err != nil {
		return fmt.Errorf("notbefore: subject %q is not an id", sub)
	}
	return s.Revoke(ctx, kind, id)
}
