// Package lockout caps secrets guessed across many IPs: after N consecutive failures against
// one target (an account, a phone, an admin's TOTP) the target is locked for a growing time.
package lockout

import (
	"context"
	"fmt"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state"
)

// Policy says when and how long to lock.
type Policy struct {
	After  int           // consecutive failures before the first lock
	Base   time.Duration // first lock
	Max    time.Duration // locks double up to this
	Memory time.Duration // how long failures are remembered without a new one
}

// Locker applies one policy to targets named by the caller (e.g. "login:" + email).
type Locker struct {
	st state.Store
	p  Policy
}

// New builds a Locker.
func New(st state.Store, p Policy) *Locker {
	if p.Memory <= 0 {
		p.Memory = 24 * time.Hour
	}
	return &Locker{st: st, p: p}
}

// Locked reports whether target is locked and for how much longer.
func (l *Locker) Locked(ctx context.Context, target string) (time.Duration, bool, error) {
	ttl, ok, err := l.st.TTL(ctx, "lock:"+target)
	if err != nil {
		return 0, false, fmt.Errorf("lockout: %w", err)
	}
	return ttl, ok, nil
}

// Fail records a failure and locks the target when the policy says so, returning the lock.
func (l *Locker) Fail(ctx context.Context, target string) (time.Duration, error) {
	n, err := l.st.Incr(ctx, "fails:"+target, l.p.Memory)
	if err != nil {
		return 0, fmt.Errorf("lockout: %w", err)
	}
	if int(n) < l.p.After {
		return 0, nil
	}
	d := l.p.Base
	for i := l.p.After; i < int(n) && d < l.p.Max; i++ {
		d *= 2
	}
	if d > l.p.Max {
		d = l.p.Max
	}
	if err := l.st.Set(ctx, "lock:"+target, "1", d); err != nil {
		return 0, fmt.Errorf("lockout: %w", err)
	}
	return d, nil
}

// Reset forgets failures after a success.
func (l *Locker) Reset(ctx context.Context, target string) error {
	if err := l.st.Del(ctx, "fails:"+target, "lock:"+target); err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}
