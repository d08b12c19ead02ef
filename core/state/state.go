// Package state holds short-lived security state (refresh-token families, one-time codes, failure
// counters, used TOTP codes) behind a small key-value seam with two implementations: Memory for the
// embedded single-process default and Redis for production, where several replicas share it.
//
// Both implementations behave identically; the conformance suite in this package runs against both.
// Conventions shared by every method:
//   - a TTL of 0 means no expiry; a negative TTL is an error; TTLs are kept to millisecond precision
//     (a positive TTL below 1 ms counts as 1 ms), as Redis does;
//   - an empty key is an error (ErrEmptyKey), so a missing identifier can never select shared state;
//   - a key holds either a string or a set; using it as the other kind fails with ErrWrongType;
//   - after Close every method fails with ErrClosed.
package state

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store is the small key-value seam for short-lived security state. TTL 0 means no expiry.
type Store interface {
	// Get returns the string stored at key; ok is false when the key is missing.
	Get(ctx context.Context, key string) (value string, ok bool, err error)
	// MGet returns one entry per key, in order; a nil entry means missing. One round trip on Redis.
	MGet(ctx context.Context, keys ...string) ([]*string, error)
	// Set stores value at key, replacing any value, kind and TTL.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// SetNX stores value only when key is missing and reports whether it did.
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// GetDel atomically returns and deletes the string at key, so exactly one caller can take it.
	GetDel(ctx context.Context, key string) (value string, ok bool, err error)
	// Del deletes the keys; missing keys are ignored.
	Del(ctx context.Context, keys ...string) error
	// Incr adds one to the integer at key (a missing key counts as 0) and returns the result. The
	// TTL is set only when this call creates the key, so a counter's window starts at its first hit.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// CompareAndSwap atomically replaces the value at key with new, with the given TTL, when it
	// currently equals old; false when the key is missing or holds something else.
	CompareAndSwap(ctx context.Context, key, old, new string, ttl time.Duration) (bool, error)
	// CompareAndDelete atomically deletes key when its value equals old.
	CompareAndDelete(ctx context.Context, key, old string) (bool, error)
	// ReserveAttempt counts one attempt at the counter key unless it is locked, in one atomic
	// step, before the caller evaluates the attempt: however many callers race, at most p.After
	// attempts are counted before the first lock. The p.After-th attempt and each later one lock
	// the key at once (p.Base, doubling per attempt up to p.Max), so the lock is in place while
	// they are evaluated. A locked key counts nothing: wait is the time the lock has left (> 0).
	// Del of key forgets the attempts and lifts the lock.
	ReserveAttempt(ctx context.Context, key string, p AttemptPolicy) (a Attempt, wait time.Duration, err error)
	// ReleaseAttempt uncounts an attempt that turned out not to be one (never evaluated, or
	// right), lifting the lock it started; a lock started by a later attempt stays. It does
	// nothing once key was deleted or expired, even if a new counter took its name.
	ReleaseAttempt(ctx context.Context, key string, a Attempt) error
	// SettleAttempt records that attempt a, which started the key's lock, was evaluated and
	// failed: the lock is no longer pending (Attempt.Pending of a refused reservation). It does
	// nothing for an attempt that started no lock, nor once key was deleted or a later attempt
	// started the lock in force.
	SettleAttempt(ctx context.Context, key string, a Attempt) error
	// TTL returns the time left before key expires; ok is false when the key is missing, and the
	// duration is 0 when the key exists without expiry.
	TTL(ctx context.Context, key string) (ttl time.Duration, ok bool, err error)
	// SAdd adds member to the set at key. The TTL only ever extends the set's lifetime: a shorter
	// TTL than the current one is ignored, and ttl 0 makes the set permanent.
	SAdd(ctx context.Context, key, member string, ttl time.Duration) error
	// SMembers returns the members of the set at key in no particular order (empty when missing).
	SMembers(ctx context.Context, key string) ([]string, error)
	// SRem removes members from the set at key; an emptied set disappears, as in Redis.
	SRem(ctx context.Context, key string, members ...string) error
	// Publish sends message to the current subscribers of channel. Delivery is best effort
	// (at most once, lost while a replica is disconnected), so subscribers must only use it to
	// shorten the life of cached data, never as the sole record of a revocation.
	Publish(ctx context.Context, channel, message string) error
	// Subscribe returns the messages published on channel from now on. The subscription is in place
	// when Subscribe returns; it ends, closing the channel, when the returned func is called, when
	// ctx is done or when the store is closed. The func may be called more than once.
	Subscribe(ctx context.Context, channel string) (<-chan string, func(), error)
	// Ping reports whether the store is usable.
	Ping(ctx context.Context) error
	// Close ends all subscriptions and makes further calls fail with ErrClosed. Redis does not close
	// the client it was given: the caller owns it and may share it with other components.
	Close() error
}

var (
	// ErrEmptyKey is returned for an empty key or channel name.
	ErrEmptyKey = errors.New("state: empty key")
	// ErrNegativeTTL is returned for a TTL below zero.
	ErrNegativeTTL = errors.New("state: negative ttl")
	// ErrWrongType is returned when a string operation meets a set or a set operation a string.
	ErrWrongType = errors.New("state: operation against a key holding the wrong kind of value")
	// ErrNotInteger is returned by Incr when the stored value is not a 64-bit integer.
	ErrNotInteger = errors.New("state: value is not an integer or out of range")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("state: store closed")
)

// normTTL validates ttl and rounds it up to whole milliseconds, the precision Redis keeps, so both
// implementations expire at the same instant.
func normTTL(ttl time.Duration) (time.Duration, error) {
	if ttl < 0 {
		return 0, fmt.Errorf("%w: %s", ErrNegativeTTL, ttl)
	}
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	return ttl, nil
}

func checkKeys(keys ...string) error {
	for _, k := range keys {
		if k == "" {
			return ErrEmptyKey
		}
	}
	return nil
}
