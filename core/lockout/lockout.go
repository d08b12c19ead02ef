// Package lockout caps secrets guessed across many IPs: after N consecutive failures against
// one target (an account, a phone, an admin's TOTP) the target is locked for a growing time.
//
// Two ways to use it: Reserve before evaluating a guess, which holds however many guesses
// arrive at once (state.Store.ReserveAttempt); or Locked, then Fail after a wrong guess, which
// lets every request already past Locked be evaluated, and suits only checks too fast to race.
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
	Memory time.Duration // how long failures are remembered after the first (default 24h)
	// Settle is how long Reserve waits for a pending lock, one started by a guess still being
	// evaluated, to be settled before refusing (default 2s; a hash queued behind a flood takes
	// longer, and its lock then refuses as if settled).
	Settle time.Duration
}

// settlePoll bounds the pause between two looks at a pending lock: a guess is settled about one
// argon2id hash (~30 ms) after it was counted.
const (
	settlePollFirst   = 5 * time.Millisecond
	settlePollLongest = 40 * time.Millisecond
)

// KeyPrefix starts the state-store key of every target's attempt counter, for stores that bound
// keys by prefix.
const KeyPrefix = "attempts:"

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
	if p.Settle <= 0 {
		p.Settle = 2 * time.Second
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

// Attempt is a guess counted by Reserve: a failure unless released.
type Attempt struct {
	l      *Locker
	target string
	a      state.Attempt
}

// Reserve counts a guess at target before it is evaluated, and starts the lock when this is the
// policy's After-th guess or a later one, so the lock holds whatever the concurrency: at most
// After guesses are evaluated before the first lock, one after each lock ends. A locked target
// counts nothing and returns the time the lock has left (wait > 0). The guess stays counted
// unless Release says it was none; a caller that dies before knowing leaves it counted, which
// costs one failure until the policy forgets it, never an extra guess.
//
// A lock started by a guess still in flight is pending: if that guess turns out right (Release)
// the lock is lifted, so Reserve waits up to Policy.Settle for it to be settled instead of
// refusing at once. Ten POS logging in to one shared account at the start of a shift then all
// get in; an attacker's burst still has at most After guesses evaluated, and is refused as soon
// as the lock-starting guess fails (Settle).
func (l *Locker) Reserve(ctx context.Context, target string) (Attempt, time.Duration, error) {
	p := state.AttemptPolicy{After: int64(l.p.After), Base: l.p.Base, Max: l.p.Max, Memory: l.p.Memory}
	deadline := time.Now().Add(l.p.Settle)
	pause := settlePollFirst
	for {
		a, wait, err := l.st.ReserveAttempt(ctx, KeyPrefix+target, p)
		if err != nil {
			return Attempt{}, 0, fmt.Errorf("lockout: %w", err)
		}
		if wait == 0 || !a.Pending || time.Now().Add(pause).After(deadline) {
			return Attempt{l: l, target: target, a: a}, wait, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return Attempt{}, 0, fmt.Errorf("lockout: %w", ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, settlePollLongest)
	}
}

// Locked is the lock this guess started, 0 if none.
func (a Attempt) Locked() time.Duration { return a.a.Locked }

// Fail settles the guess as a failure (it was evaluated and wrong), so a lock it started is no
// longer pending and refuses at once. Without it the lock holds all the same, and callers that
// meet it wait up to Policy.Settle before being refused.
func (a Attempt) Fail(ctx context.Context) error {
	if a.l == nil || a.a.Locked == 0 {
		return nil
	}
	if err := a.l.st.SettleAttempt(ctx, KeyPrefix+a.target, a.a); err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}

// Release uncounts the guess, which turned out to be none (never evaluated, or right), and
// lifts the lock it started.
func (a Attempt) Release(ctx context.Context) error {
	if a.l == nil {
		return nil
	}
	if err := a.l.st.ReleaseAttempt(ctx, KeyPrefix+a.target, a.a); err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}

// Reset forgets failures (after a success) and lifts the lock, whichever way they were counted.
func (l *Locker) Reset(ctx context.Context, target string) error {
	if err := l.st.Del(ctx, KeyPrefix+target, "fails:"+target, "lock:"+target); err != nil {
		return fmt.Errorf("lockout: %w", err)
	}
	return nil
}
