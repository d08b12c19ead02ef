package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// WindowStore keeps the shared per-window counters behind a Batched limiter.
type WindowStore interface {
	// Add adds each delta to its counter (created with ttl) and returns the new totals, in one
	// round trip.
	Add(ctx context.Context, keys []string, deltas []int64, ttl time.Duration) ([]int64, error)
	// Get returns the counters (0 when missing), in one round trip.
	Get(ctx context.Context, keys []string) ([]int64, error)
}

// Batched decides locally, without a round trip, and merges its counts into shared window
// counters every interval, so replicas converge on one budget per key. It is meant for
// high-volume routes such as /tokens/verify (600/min/IP), where a round trip per request would
// cost more than the rest of the request. The estimate is a sliding window over two fixed
// windows. Admission beyond the limit is bounded: each other replica may admit at most what the
// key sends it during one interval before the merge tells it. A key seen for the first time
// on this replica is fetched synchronously once, so a fresh replica does not start from zero.
type Batched struct {
	store    WindowStore
	interval time.Duration
	now      func() time.Time
	seed     maphash.Seed
	shards   [64]bshard
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

type bshard struct {
	mu sync.Mutex
	m  map[string]*bentry
}

type bentry struct {
	rule     Rule
	window   int64 // index of the current window
	prev     int64 // global count of the previous window
	cur      int64 // last known global count of the current window, our flushed admits included
	pending  int64 // admitted here, not yet sent
	inflight int64 // being sent
	lastUse  int64 // unix nanos
}

var _ Limiter = (*Batched)(nil)

// NewBatched starts a Batched limiter that merges every interval; Close stops it.
func NewBatched(store WindowStore, interval time.Duration) *Batched {
	b := &Batched{store: store, interval: interval, now: time.Now, seed: maphash.MakeSeed(), stop: make(chan struct{}), done: make(chan struct{})}
	for i := range b.shards {
		b.shards[i].m = map[string]*bentry{}
	}
	go b.loop()
	return b
}

// Close stops the merge loop after one last merge.
func (b *Batched) Close() error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return nil
}

func windowKey(key string, w int64) string { return key + ":" + strconv.FormatInt(w, 10) }

// Allow implements Limiter.
func (b *Batched) Allow(ctx context.Context, key string, rule Rule) (Result, error) {
	if err := check(key, rule); err != nil {
		return Result{}, err
	}
	now := b.now().UnixNano()
	period := int64(rule.Period)
	w := now / period
	sh := &b.shards[maphash.String(b.seed, key)%uint64(len(b.shards))]
	sh.mu.Lock()
	e, ok := sh.m[key]
	if !ok {
		sh.mu.Unlock()
		// First sight here: learn what other replicas counted, once, outside the lock.
		counts, err := b.store.Get(ctx, []string{windowKey(key, w-1), windowKey(key, w)})
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: batched: %w", err)
		}
		sh.mu.Lock()
		if e, ok = sh.m[key]; !ok {
			e = &bentry{rule: rule, window: w, prev: counts[0], cur: counts[1]}
			sh.m[key] = e
		}
	}
	defer sh.mu.Unlock()
	e.rule, e.lastUse = rule, now
	if w != e.window {
		// The window rolled: what we knew of the current one becomes the previous one.
		if w == e.window+1 {
			e.prev = e.cur + e.pending + e.inflight
		} else {
			e.prev = 0
		}
		e.window, e.cur = w, 0
		// Admits not yet sent belonged to the old window; they stay counted in prev.
		e.pending, e.inflight = 0, 0
	}
	elapsed := now - w*period
	weight := float64(period-elapsed) / float64(period)
	used := float64(e.prev)*weight + float64(e.cur+e.pending+e.inflight)
	if used+1 > float64(rule.Limit) {
		return Result{Allowed: false, RetryAfter: retryAfter(rule, e, elapsed, period)}, nil
	}
	e.pending++
	return Result{Allowed: true, Remaining: int(float64(rule.Limit) - used - 1)}, nil
}

// retryAfter is when the sliding estimate next drops below the limit, assuming no new traffic.
func retryAfter(rule Rule, e *bentry, elapsed, period int64) time.Duration {
	cur := float64(e.cur + e.pending + e.inflight)
	room := float64(rule.Limit) - 1 - cur
	if room < 0 || e.prev == 0 {
		return time.Duration(period - elapsed)
	}
	// prev*(period-elapsed-t)/period ≤ room  ⇒  t ≥ period-elapsed - room*period/prev
	t := float64(period-elapsed) - room*float64(period)/float64(e.prev)
	return max(time.Duration(t), time.Millisecond)
}

func (b *Batched) loop() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.merge()
		case <-b.stop:
			b.merge()
			return
		}
	}
}

type flushItem struct {
	sh     *bshard
	key    string
	window int64
	delta  int64
	ttl    time.Duration
}

// merge sends every key's pending admits and learns the global totals in one round trip.
func (b *Batched) merge() {
	now := b.now().UnixNano()
	var items []flushItem
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.pending == 0 {
				if now-e.lastUse > 2*int64(e.rule.Period) {
					delete(sh.m, k)
				}
				continue
			}
			items = append(items, flushItem{sh: sh, key: k, window: e.window, delta: e.pending, ttl: 2 * e.rule.Period})
			e.inflight += e.pending
			e.pending = 0
		}
		sh.mu.Unlock()
	}
	if len(items) == 0 {
		return
	}
	keys := make([]string, len(items))
	deltas := make([]int64, len(items))
	ttl := time.Duration(0)
	for i, it := range items {
		keys[i], deltas[i] = windowKey(it.key, it.window), it.delta
		ttl = max(ttl, it.ttl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.interval*4+time.Second)
	totals, err := b.store.Add(ctx, keys, deltas, ttl)
	cancel()
	for i, it := range items {
		it.sh.mu.Lock()
		if e, ok := it.sh.m[it.key]; ok && e.window == it.window {
			e.inflight -= it.delta
			if err != nil {
				// Keep counting them locally; they are retried with the next merge.
				e.pending += it.delta
			} else if totals[i] > e.cur {
				e.cur = totals[i]
			}
		}
		it.sh.mu.Unlock()
	}
}

// RedisWindows is the WindowStore on Redis: a pipeline of INCRBY/PEXPIRE, one round trip per
// node, valid on Cluster.
type RedisWindows struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedisWindows stores counters under prefix + "rlw:".
func NewRedisWindows(c redis.UniversalClient, prefix string) *RedisWindows {
	return &RedisWindows{c: c, prefix: prefix + "rlw:"}
}

// Add implements WindowStore.
func (r *RedisWindows) Add(ctx context.Context, keys []string, deltas []int64, ttl time.Duration) ([]int64, error) {
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.IncrBy(ctx, r.prefix+k, deltas[i])
			p.PExpire(ctx, r.prefix+k, ttl)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(keys))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// Get implements WindowStore.
func (r *RedisWindows) Get(ctx context.Context, keys []string) ([]int64, error) {
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, r.prefix+k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]int64, len(keys))
	for i, c := range cmds {
		if n, err := c.Int64(); err == nil {
			out[i] = n
		}
	}
	return out, nil
}
