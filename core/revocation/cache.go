// Package revocation keeps hot lookups (is this session alive? what does this API key grant?)
// in process memory while keeping revocation immediate: a revocation clears the revoking
// replica's entry, is pushed to every other replica through the state store's pub/sub, and
// returns once every live replica has confirmed that it dropped the entry, so a client that saw
// the revocation succeed finds it in force on whichever replica it asks next. Pub/sub is
// at-most-once, so entries also expire after a short TTL: a message lost during a Redis
// reconnect (whose replica then does not confirm in time) is bounded by that TTL, never by the
// data's lifetime.
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
	gen      atomic.Uint64
	cancel   func()
	life     context.Context // Start to Stop: heartbeats and confirmations
	end      context.CancelFunc
	stopOnce sync.Once
	wg       sync.WaitGroup

	nonce atomic.Uint64
	id    string // this cache's member id, also in its nonces
}

const (
	// ackWait bounds how long Revoke waits for the other replicas' confirmations; a replica that
	// missed the message (reconnecting, stalled) is then bounded by the TTL.
	ackWait = time.Second
	// heartbeat is how often a started cache renews its membership, which lapses after
	// memberTTL: Revoke does not wait for a replica that died without leaving.
	heartbeat = time.Second
	memberTTL = 5 * time.Second
	// ackTTL keeps a revocation's confirmations in the store after Revoke has stopped reading them.
	ackTTL = time.Minute
)

// Store keys, under the channel's name: the set of member ids, one expiring key per live
// member, and the confirmations of one revocation.
func (c *Cache[V]) membersKey() string         { return c.channel + ":members" }
func (c *Cache[V]) memberKey(id string) string { return c.channel + ":member:" + id }
func (c *Cache[V]) ackKey(nonce string) string { return c.channel + ":ack:" + nonce }

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
	c := &Cache[V]{st: st, channel: channel, ttl: ttl, now: time.Now, seed: maphash.MakeSeed(), id: randomID()}
	for i := range c.shards {
		c.shards[i].m = map[string]entry[V]{}
	}
	return c
}

// Start subscribes to revocations and joins the members that Revoke waits for; until it has,
// nothing is cached.
func (c *Cache[V]) Start(ctx context.Context) error {
	msgs, cancel, err := c.st.Subscribe(context.Background(), c.channel)
	if err != nil {
		return err
	}
	// Join once subscribed: every revocation that waits for this cache reaches it.
	if err := c.join(ctx); err != nil {
		cancel()
		return err
	}
	c.cancel = cancel
	c.life, c.end = context.WithCancel(context.WithoutCancel(ctx)) //nolint:gosec // Stop calls c.end
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		for {
			select {
			case <-c.life.Done():
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(c.life, heartbeat)
				_ = c.join(ctx) // a missed beat only makes Revoke skip waiting for us
				cancel()
			}
		}
	}()
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
				if nonce != "" {
					// Confirm to the revoking replica, which waits for every member.
					ctx, cancel := context.WithTimeout(c.life, ackWait)
					_ = c.st.SAdd(ctx, c.ackKey(nonce), c.id, ackTTL)
					cancel()
				}
			case <-tick.C:
				for i := range c.shards {
					c.sweep(&c.shards[i])
				}
			}
		}
	}()
	return nil
}

// Stop unsubscribes and leaves the members.
func (c *Cache[V]) Stop() {
	if c.cancel == nil {
		return
	}
	c.stopOnce.Do(func() {
		c.end()
		c.cancel()
		c.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.st.Del(ctx, c.memberKey(c.id))
		_ = c.st.SRem(ctx, c.membersKey(), c.id)
	})
}

// join records this cache as a live member for memberTTL.
func (c *Cache[V]) join(ctx context.Context) error {
	if err := c.st.Set(ctx, c.memberKey(c.id), "1", memberTTL); err != nil {
		return err
	}
	return c.st.SAdd(ctx, c.membersKey(), c.id, 24*time.Hour)
}

// others returns the ids of the other live members, forgetting those whose membership lapsed.
func (c *Cache[V]) others(ctx context.Context) ([]string, error) {
	ids, err := c.st.SMembers(ctx, c.membersKey())
	if err != nil {
		return nil, err
	}
	var others, keys []string
	for _, id := range ids {
		if id != c.id {
			others = append(others, id)
			keys = append(keys, c.memberKey(id))
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	alive, err := c.st.MGet(ctx, keys...)
	if err != nil {
		return nil, err
	}
	var live, dead []string
	for i, v := range alive {
		if v != nil {
			live = append(live, others[i])
		} else {
			dead = append(dead, others[i])
		}
	}
	if len(dead) > 0 {
		_ = c.st.SRem(ctx, c.membersKey(), dead...)
	}
	return live, nil
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

// Revoke forgets key here at once and tells every replica. It returns once every other live
// replica has confirmed that it dropped key (or after ackWait): receiving the message is not
// enough, the replica must have applied it before a client that saw the revocation succeed asks
// it. The caller has already removed key from the source of truth, so no replica re-caches it.
func (c *Cache[V]) Revoke(ctx context.Context, key string) error {
	c.drop(key)
	if c.cancel == nil {
		return c.st.Publish(ctx, c.channel, key)
	}
	// Members that join after this read subscribed before joining and cache only fetches
	// that start after joining, which already miss key.
	others, err := c.others(ctx)
	if err != nil {
		return err
	}
	nonce := strconv.FormatUint(c.nonce.Add(1), 36) + "." + c.id
	if err := c.st.Publish(ctx, c.channel, key+"\n"+nonce); err != nil {
		return err
	}
	if len(others) == 0 {
		return nil
	}
	deadline := time.Now().Add(ackWait)
	pause := time.Millisecond
	for {
		acked, err := c.st.SMembers(ctx, c.ackKey(nonce))
		if err != nil {
			return nil // published: the TTL bounds a replica we could not confirm
		}
		if containsAll(acked, others) {
			_ = c.st.Del(ctx, c.ackKey(nonce))
			return nil
		}
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return nil
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

func containsAll(set, want []string) bool {
	have := make(map[string]bool, len(set))
	for _, s := range set {
		have[s] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
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
