// Package revocation keeps hot lookups (is this session alive? what does this API key grant?)
// in process memory while keeping revocation immediate in practice: a revocation clears the
// revoking replica's entry before it answers and is pushed to every other replica through the
// state store's pub/sub. Pub/sub is at-most-once, so entries also expire after a short TTL: a
// message lost during a Redis reconnect is bounded by that TTL, never by the data's lifetime.
package revocation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state"
)

// Cache maps keys to values fetched from the source of truth.
type Cache[V any] struct {
	st      state.Store
	channel string
	ttl     time.Duration
	now     func() time.Time
	seed    maphash.Seed
	shards  [32]shard[V]
	// gen counts invalidations; a fetch that raced one is not cached, so a value read just
	// before a revocation cannot outlive it.
	gen    atomic.Uint64
	cancel func()
	wg     sync.WaitGroup

	waitMu  sync.Mutex
	waiting map[string]chan struct{} // nonces of our own revocations in flight
	nonce   atomic.Uint64
	id      string // tells this cache's nonces from other replicas'
}

// echoWait bounds how long Revoke waits for its own message to come back.
const echoWait = 250 * time.Millisecond

type shard[V any] struct {
	mu sync.RWMutex
	m  map[string]entry[V]
}

type entry[V any] struct {
	v       V
	expires int64
}

// New builds a Cache whose revocations travel on channel; Start subscribes.
func New[V any](st state.Store, channel string, ttl time.Duration) *Cache[V] {
	c := &Cache[V]{st: st, channel: channel, ttl: ttl, now: time.Now, seed: maphash.MakeSeed(), waiting: map[string]chan struct{}{}, id: randomID()}
	for i := range c.shards {
		c.shards[i].m = map[string]entry[V]{}
	}
	return c
}

// Start subscribes to revocations; until it has, nothing is cached.
func (c *Cache[V]) Start(ctx context.Context) error {
	msgs, cancel, err := c.st.Subscribe(context.Background(), c.channel)
	if err != nil {
		return err
	}
	c.cancel = cancel
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(max(c.ttl, time.Second))
		defer tick.Stop()
		for {
			select {
			case msg, ok := <-msgs:
				if !ok {
					// The subscription ended (store closing): stop trusting the cache.
					c.Clear()
					return
				}
				key, nonce, _ := strings.Cut(msg, "\n")
				c.drop(key)
				c.waitMu.Lock()
				if ch, mine := c.waiting[nonce]; mine {
					close(ch)
					delete(c.waiting, nonce)
				}
				c.waitMu.Unlock()
			case <-tick.C:
				for i := range c.shards {
					c.sweep(&c.shards[i])
				}
			}
		}
	}()
	return nil
}

// Stop unsubscribes.
func (c *Cache[V]) Stop() {
	if c.cancel != nil {
		c.cancel()
		c.wg.Wait()
	}
}

func (c *Cache[V]) shard(key string) *shard[V] {
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// Load returns the cached value of key or fetches it. fetch reports found=false for an
// unknown or revoked key; negative answers are not cached, so a new key works at once.
func (c *Cache[V]) Load(ctx context.Context, key string, fetch func(context.Context) (V, bool, error)) (V, bool, error) {
	if c.ttl <= 0 {
		return fetch(ctx)
	}
	now := c.now().UnixNano()
	sh := c.shard(key)
	sh.mu.RLock()
	e, ok := sh.m[key]
	sh.mu.RUnlock()
	if ok && e.expires > now {
		return e.v, true, nil
	}
	gen := c.gen.Load()
	v, found, err := fetch(ctx)
	if err != nil || !found || c.cancel == nil {
		return v, found, err
	}
	sh.mu.Lock()
	if c.gen.Load() == gen {
		sh.m[key] = entry[V]{v: v, expires: now + int64(c.ttl)}
	}
	sh.mu.Unlock()
	return v, true, nil
}

// Revoke forgets key here at once and tells every replica. It returns once its own message
// has come back through the store (or after a short bound): the store hands a message to all
// subscribers at once, so by then the other replicas hold it too, and a client that saw the
// revocation succeed finds it in force everywhere.
func (c *Cache[V]) Revoke(ctx context.Context, key string) error {
	c.drop(key)
	if c.cancel == nil {
		return c.st.Publish(ctx, c.channel, key)
	}
	nonce := strconv.FormatUint(c.nonce.Add(1), 36) + "." + c.id
	ch := make(chan struct{})
	c.waitMu.Lock()
	c.waiting[nonce] = ch
	c.waitMu.Unlock()
	defer func() {
		c.waitMu.Lock()
		delete(c.waiting, nonce)
		c.waitMu.Unlock()
	}()
	if err := c.st.Publish(ctx, c.channel, key+"\n"+nonce); err != nil {
		return err
	}
	t := time.NewTimer(echoWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// Clear forgets everything.
func (c *Cache[V]) Clear() {
	c.gen.Add(1)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}

func (c *Cache[V]) drop(key string) {
	c.gen.Add(1)
	sh := c.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
}

// sweep bounds memory: expired entries go on a timer.
func (c *Cache[V]) sweep(sh *shard[V]) {
	now := c.now().UnixNano()
	sh.mu.Lock()
	for k, e := range sh.m {
		if e.expires <= now {
			delete(sh.m, k)
		}
	}
	sh.mu.Unlock()
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
