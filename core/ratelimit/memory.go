package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// shardCount spreads keys over independent mutexes so that parallel requests rarely contend.
const shardCount = 64

// minSweep is the per-shard size below which expired entries are left for later; it keeps the
// amortised sweep from running on every insert into a small map.
const minSweep = 1024

// Memory is the in-process Limiter. It implements the same GCRA as redis_rate with integer
// nanoseconds, so the two agree to within a nanosecond per request. Memory stays bounded: an
// entry is dead once its theoretical arrival time has passed (it then equals a fresh key), and a
// shard drops dead entries whenever it has doubled in size since its last sweep, so a shard holds
// at most about twice its live keys. No goroutine is involved, so there is nothing to close.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shardCount]memShard
}

type memShard struct {
	mu      sync.Mutex
	tat     map[string]int64 // theoretical arrival time, Unix nanoseconds
	sweepAt int
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an in-process limiter on the wall clock.
func NewMemory() *Memory { return NewMemoryWithClock(time.Now) }

// NewMemoryWithClock is NewMemory with an injected clock, so tests can refill buckets without sleeping.
func NewMemoryWithClock(now func() time.Time) *Memory {
	m := &Memory{now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]int64)
		m.shards[i].sweepAt = minSweep
	}
	return m
}

// Allow implements Limiter.
func (m *Memory) Allow(ctx context.Context, key string, rule Rule) (Result, error) {
	if err := check(key, rule); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	interval := int64(rule.Period) / int64(rule.Limit) // emission interval
	burstOffset := interval * int64(rule.Limit)

	s := &m.shards[maphash.String(m.seed, key)%shardCount]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now().UnixNano()
	tat, ok := s.tat[key]
	if !ok || tat < now {
		tat = now
	}
	newTAT := tat + interval
	diff := now - (newTAT - burstOffset)
	if diff < 0 {
		return Result{Allowed: false, Remaining: 0, RetryAfter: time.Duration(-diff)}, nil
	}
	s.tat[key] = newTAT
	if len(s.tat) >= s.sweepAt {
		s.sweep(now)
	}
	return Result{Allowed: true, Remaining: int(diff / interval)}, nil
}

// sweep copies the live entries into a new map because a Go map never shrinks: after a flood of
// one-off keys, deleting alone would keep the flood's buckets forever.
func (s *memShard) sweep(now int64) {
	live := make(map[string]int64, len(s.tat)/2)
	for k, tat := range s.tat {
		if tat > now {
			live[k] = tat
		}
	}
	s.tat = live
	s.sweepAt = max(2*len(live), minSweep)
}

// size counts live and dead entries, for tests of the memory bound.
func (m *Memory) size() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}
