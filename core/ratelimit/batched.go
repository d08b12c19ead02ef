package ratelimit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// WindowStore keeps the shared per-window counters behind a Batched limiter.
type WindowStore interface {
	// Add adds each delta to its key's counter in window w and returns the new totals, in one
	// round trip.
	Add(ctx context.Context, w Window, keys []string, deltas []int64) ([]int64, error)
	// Get returns key's counters in the window before w and in w (0 when missing), in one
	// round trip.
	Get(ctx context.Context, key string, w Window) (prev, cur int64, err error)
}

// Window is one fixed window of a rule's period: the Index-th since the Unix epoch.
type Window struct {
	Period time.Duration
	Index  int64
}

// Batched decides locally, without a round trip, and merges its counts into shared window
// counters every interval, so replicas converge on one budget per key. It is meant for
// high-volume routes such as /tokens/verify (600/min/IP), where a round trip per request would
// cost more than the rest of the request. The estimate is a sliding window over two fixed
// windows. Admission beyond the limit is bounded: each other replica may admit at most what the
// key sends it during one interval before the merge tells it. A key seen for the first time
// on this replica is fetched synchronously once, so a fresh replica does not start from zero.
//
// A merge costs what changed since the last one, not what is known: each shard keeps a list of
// its keys with unsent admits, and forgets idle keys one shard per tick. The merge shares the
// CPUs with requests, so its cost is their tail latency.
type Batched struct {
	store    WindowStore
	interval time.Duration
	now      func() time.Time
	seed     maphash.Seed
	shards   [64]bshard
	sweep    int // next shard whose idle keys are forgotten
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

type bshard struct {
	mu    sync.Mutex
	m     map[string]*bentry
	dirty []*bentry // entries with pending admits, each once
	spare []*bentry // the previous dirty list, reused
}

type bentry struct {
	key      string
	rule     Rule
	window   int64 // index of the current window
	prev     int64 // global count of the previous window
	cur      int64 // last known global count of the current window, our flushed admits included
	pending  int64 // admitted here, not yet sent
	inflight int64 // being sent
	lastUse  int64 // unix nanos
	dirty    bool  // on its shard's dirty list
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

// Allow implements Limiter.
func (b *Batched) Allow(ctx context.Context, key string, rule Rule) (Result, error) {
	if err := check(key, rule); err != nil {
		return Result{}, err
	}
	now := b.now().UnixNano()
	period := int64(rule.Period)
	w := now / period
	sh := b.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	if !ok {
		sh.mu.Unlock()
		// First sight here: learn what other replicas counted, once, outside the lock.
		prev, cur, err := b.store.Get(ctx, key, Window{Period: rule.Period, Index: w})
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: batched: %w", err)
		}
		sh.mu.Lock()
		if e, ok = sh.m[key]; !ok {
			e = &bentry{key: key, rule: rule, window: w, prev: prev, cur: cur}
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
	if !e.dirty {
		e.dirty = true
		sh.dirty = append(sh.dirty, e)
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

// mergeSlices: each tick merges 1/mergeSlices of the shards, so every key is still merged once
// per interval, but the work (and the pause it puts in the requests sharing its CPU) comes in
// slices several times smaller: one big merge every 100 ms showed up in the latency trace of
// /tokens/verify as a stall cluster aligned on the tick.
const mergeSlices = 8

func (b *Batched) loop() {
	defer close(b.done)
	t := time.NewTicker(b.interval / mergeSlices)
	defer t.Stop()
	per := len(b.shards) / mergeSlices
	for slice := 0; ; slice = (slice + 1) % mergeSlices {
		select {
		case <-t.C:
			b.mergeShards(slice*per, (slice+1)*per)
		case <-b.stop:
			b.merge()
			return
		}
	}
}

type flushItem struct {
	e      *bentry
	window Window
	delta  int64
}

// merge sends the admits made since the last merge and learns the global totals of their
// keys, in one round trip per window (and per Redis node).
func (b *Batched) merge() { b.mergeShards(0, len(b.shards)) }

// mergeShards merges the shards [lo, hi).
func (b *Batched) mergeShards(lo, hi int) {
	var items []flushItem
	for i := lo; i < hi; i++ {
		sh := &b.shards[i]
		sh.mu.Lock()
		dirty := sh.dirty
		sh.dirty, sh.spare = sh.spare[:0], dirty
		for _, e := range dirty {
			e.dirty = false
			if e.pending == 0 { // its window rolled since it was listed
				continue
			}
			items = append(items, flushItem{e: e, window: Window{Period: e.rule.Period, Index: e.window}, delta: e.pending})
			e.inflight += e.pending
			e.pending = 0
		}
		clear(dirty) // drop the pointers so forgotten entries can be collected
		sh.mu.Unlock()
	}
	b.forgetIdle()
	if len(items) == 0 {
		return
	}
	// Every item of a tick is almost always in one window; two at a boundary.
	slices.SortFunc(items, func(x, y flushItem) int {
		return cmp.Or(cmp.Compare(x.window.Period, y.window.Period), cmp.Compare(x.window.Index, y.window.Index))
	})
	ctx, cancel := context.WithTimeout(context.Background(), b.interval*4+time.Second)
	defer cancel()
	for len(items) > 0 {
		n := 1
		for n < len(items) && items[n].window == items[0].window {
			n++
		}
		b.send(ctx, items[:n])
		items = items[n:]
	}
}

func (b *Batched) send(ctx context.Context, items []flushItem) {
	keys := make([]string, len(items))
	deltas := make([]int64, len(items))
	for i, it := range items {
		keys[i], deltas[i] = it.e.key, it.delta
	}
	totals, err := b.store.Add(ctx, items[0].window, keys, deltas)
	for i, it := range items {
		sh := b.shard(it.e.key)
		sh.mu.Lock()
		if e := it.e; e.window == it.window.Index {
			e.inflight -= it.delta
			if err != nil {
				// Keep counting them locally; they are retried with the next merge.
				if !e.dirty {
					e.dirty = true
					sh.dirty = append(sh.dirty, e)
				}
				e.pending += it.delta
			} else if totals[i] > e.cur {
				e.cur = totals[i]
			}
		}
		sh.mu.Unlock()
	}
}

// forgetIdle drops, from one shard per tick, the keys unused for two periods: their counts no
// longer weigh on any decision.
func (b *Batched) forgetIdle() {
	sh := &b.shards[b.sweep]
	b.sweep = (b.sweep + 1) % len(b.shards)
	now := b.now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for k, e := range sh.m {
		if !e.dirty && e.inflight == 0 && now-e.lastUse > 2*int64(e.rule.Period) {
			delete(sh.m, k)
		}
	}
}

func (b *Batched) shard(key string) *bshard {
	return &b.shards[maphash.String(b.seed, key)%uint64(len(b.shards))]
}

// RedisWindows is the WindowStore on Redis: one hash per window (field: the limiter's key),
// so a merge is one script call that adds every delta and expires the hash once. A window's
// hash lives on one Cluster node; the calls are per merge tick and replica, not per request.
type RedisWindows struct {
	c      redis.UniversalClient
	prefix string
}

// NewRedisWindows stores window hashes under prefix + "rlw:".
func NewRedisWindows(c redis.UniversalClient, prefix string) *RedisWindows {
	return &RedisWindows{c: c, prefix: prefix + "rlw:"}
}

// addScript: KEYS[1] the window's hash, ARGV[1] its TTL in ms, then key/delta pairs; returns
// the new totals in order.
var addScript = redis.NewScript(`
local out = {}
for i = 2, #ARGV, 2 do
	out[#out + 1] = redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return out
`)

// maxScriptKeys bounds one script call, so one merge of a huge tick does not hold Redis (single
// threaded) for long.
const maxScriptKeys = 2048

func (r *RedisWindows) hash(w Window) string {
	return r.prefix + strconv.FormatInt(w.Period.Milliseconds(), 10) + ":" + strconv.FormatInt(w.Index, 10)
}

// Add implements WindowStore.
func (r *RedisWindows) Add(ctx context.Context, w Window, keys []string, deltas []int64) ([]int64, error) {
	out, err := r.add(ctx, w, keys, deltas)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// First call on this Redis (or after SCRIPT FLUSH): load the script and retry, once.
		if err = addScript.Load(ctx, r.c).Err(); err == nil {
			out, err = r.add(ctx, w, keys, deltas)
		}
	}
	return out, err
}

func (r *RedisWindows) add(ctx context.Context, w Window, keys []string, deltas []int64) ([]int64, error) {
	hash := []string{r.hash(w)}
	// A window's counts matter until the next window has fully passed.
	ttl := (2 * w.Period).Milliseconds()
	var cmds []*redis.Cmd
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for lo := 0; lo < len(keys); lo += maxScriptKeys {
			hi := min(lo+maxScriptKeys, len(keys))
			args := make([]any, 0, 1+2*(hi-lo))
			args = append(args, ttl)
			for i := lo; i < hi; i++ {
				args = append(args, keys[i], deltas[i])
			}
			cmds = append(cmds, addScript.EvalSha(ctx, p, hash, args...))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(keys))
	for _, c := range cmds {
		vals, err := c.Int64Slice()
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	if len(out) != len(keys) {
		return nil, fmt.Errorf("ratelimit: window add returned %d totals for %d keys", len(out), len(keys))
	}
	return out, nil
}

// Get implements WindowStore.
func (r *RedisWindows) Get(ctx context.Context, key string, w Window) (prev, cur int64, err error) {
	var p, c *redis.StringCmd
	_, err = r.c.Pipelined(ctx, func(pl redis.Pipeliner) error {
		p = pl.HGet(ctx, r.hash(Window{Period: w.Period, Index: w.Index - 1}), key)
		c = pl.HGet(ctx, r.hash(w), key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, err
	}
	prev, _ = p.Int64() // missing: 0
	cur, _ = c.Int64()
	return prev, cur, nil
}
