package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store shared by all replicas. Every multi-step operation is a single-key Lua script
// or a single command, so it is atomic across replicas and valid on Redis Cluster; the multi-key
// calls (MGet, Del) are pipelines of single-key commands, which go-redis splits per node.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	closed atomic.Bool

	mu   sync.Mutex
	subs map[*redisSub]struct{}
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on c that prefixes every key and channel with prefix (e.g. "cashless:"),
// so several deployments and test runs can share one server. The caller keeps ownership of c.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix, subs: make(map[*redisSub]struct{})}
}

// Lua scripts touch only KEYS[1], which keeps them legal on Cluster. TTLs travel in milliseconds.
var (
	// EXISTS first because INCR cannot tell us whether it created the key.
	incrScript = redis.NewScript(`
local existed = redis.call('EXISTS', KEYS[1])
local n = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[1])
if existed == 0 and ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return n`)

	casScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1`)

	cadScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1`)

	// Written out rather than PEXPIRE ... GT: GT treats a key without expiry as infinite, which
	// would leave a freshly created set without any TTL, and it needs Redis 7.
	saddScript = redis.NewScript(`
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl == 0 then
  redis.call('PERSIST', KEYS[1])
  return 0
end
local cur = redis.call('PTTL', KEYS[1])
if existed == 0 or (cur >= 0 and cur < ttl) then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 0`)
)

func (r *Redis) key(k string) string { return r.prefix + k }

func (r *Redis) check(keys ...string) error {
	if r.closed.Load() {
		return ErrClosed
	}
	return checkKeys(keys...)
}

// mapErr turns Redis's type errors into the sentinels Memory returns, so callers and the shared
// conformance suite can rely on errors.Is with either implementation.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "WRONGTYPE"):
		return ErrWrongType
	case strings.Contains(msg, "not an integer"), strings.Contains(msg, "would overflow"):
		return ErrNotInteger
	}
	return fmt.Errorf("state: redis: %w", err)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	if err := r.check(key); err != nil {
		return "", false, err
	}
	v, err := r.c.Get(ctx, r.key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, mapErr(err)
	}
	return v, true, nil
}

// MGet implements Store. It pipelines GETs instead of sending MGET because MGET fails with CROSSSLOT
// on Cluster; the pipeline still costs one round trip per node.
func (r *Redis) MGet(ctx context.Context, keys ...string) ([]*string, error) {
	if err := r.check(keys...); err != nil {
		return nil, err
	}
	out := make([]*string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	// The pipeline's own error repeats the first failed command's, redis.Nil included, so each
	// command is inspected instead.
	_, _ = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, r.key(k))
		}
		return nil
	})
	for i, c := range cmds {
		v, err := c.Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, mapErr(err)
		}
		out[i] = &v
	}
	return out, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := r.check(key); err != nil {
		return err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return err
	}
	return mapErr(r.c.Set(ctx, r.key(key), value, ttl).Err())
}

// SetNX implements Store.
func (r *Redis) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if err := r.check(key); err != nil {
		return false, err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return false, err
	}
	ok, err := r.c.SetNX(ctx, r.key(key), value, ttl).Result()
	return ok, mapErr(err)
}

// GetDel implements Store.
func (r *Redis) GetDel(ctx context.Context, key string) (string, bool, error) {
	if err := r.check(key); err != nil {
		return "", false, err
	}
	v, err := r.c.GetDel(ctx, r.key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, mapErr(err)
	}
	return v, true, nil
}

// Del implements Store. Several keys go out as a pipeline of single-key DELs, since one multi-key
// DEL fails with CROSSSLOT on Cluster.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if err := r.check(keys...); err != nil {
		return err
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return mapErr(r.c.Del(ctx, r.key(keys[0])).Err())
	}
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, r.key(k))
		}
		return nil
	})
	return mapErr(err)
}

// Incr implements Store.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := r.check(key); err != nil {
		return 0, err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, r.c, []string{r.key(key)}, ttl.Milliseconds()).Int64()
	return n, mapErr(err)
}

// CompareAndSwap implements Store.
func (r *Redis) CompareAndSwap(ctx context.Context, key, old, new string, ttl time.Duration) (bool, error) {
	if err := r.check(key); err != nil {
		return false, err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return false, err
	}
	n, err := casScript.Run(ctx, r.c, []string{r.key(key)}, old, new, ttl.Milliseconds()).Int64()
	return n == 1, mapErr(err)
}

// CompareAndDelete implements Store.
func (r *Redis) CompareAndDelete(ctx context.Context, key, old string) (bool, error) {
	if err := r.check(key); err != nil {
		return false, err
	}
	n, err := cadScript.Run(ctx, r.c, []string{r.key(key)}, old).Int64()
	return n == 1, mapErr(err)
}

// TTL implements Store.
func (r *Redis) TTL(ctx context.Context, key string) (time.Duration, bool, error) {
	if err := r.check(key); err != nil {
		return 0, false, err
	}
	d, err := r.c.PTTL(ctx, r.key(key)).Result()
	switch {
	case err != nil:
		return 0, false, mapErr(err)
	case d == -1:
		return 0, true, nil
	case d <= 0:
		// -2 is a missing key; 0 ms left means it is expiring now, which Memory reports as missing.
		return 0, false, nil
	}
	return d, true, nil
}

// SAdd implements Store.
func (r *Redis) SAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	if err := r.check(key); err != nil {
		return err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return err
	}
	return mapErr(saddScript.Run(ctx, r.c, []string{r.key(key)}, member, ttl.Milliseconds()).Err())
}

// SMembers implements Store.
func (r *Redis) SMembers(ctx context.Context, key string) ([]string, error) {
	if err := r.check(key); err != nil {
		return nil, err
	}
	v, err := r.c.SMembers(ctx, r.key(key)).Result()
	if err != nil {
		return nil, mapErr(err)
	}
	if v == nil {
		v = []string{}
	}
	return v, nil
}

// SRem implements Store.
func (r *Redis) SRem(ctx context.Context, key string, members ...string) error {
	if err := r.check(key); err != nil {
		return err
	}
	if len(members) == 0 {
		return nil // SREM needs a member; removing none is a no-op, as in Memory
	}
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
	}
	return mapErr(r.c.SRem(ctx, r.key(key), args...).Err())
}

// Publish implements Store.
func (r *Redis) Publish(ctx context.Context, channel, message string) error {
	if err := r.check(channel); err != nil {
		return err
	}
	if r.sharded() {
		return mapErr(r.c.SPublish(ctx, r.key(channel), message).Err())
	}
	return mapErr(r.c.Publish(ctx, r.key(channel), message).Err())
}

// sharded reports whether Pub/Sub must be sharded (SPUBLISH/SSUBSCRIBE, Redis 7+). go-redis sends a
// plain PUBLISH on Cluster to any node, and messages entering through different nodes reach
// subscribers out of order; sharded channels live on their slot's node, so order is kept.
func (r *Redis) sharded() bool {
	_, ok := r.c.(*redis.ClusterClient)
	return ok
}

// Subscribe implements Store. Messages published while the connection is being re-established are
// lost (Redis Pub/Sub has no replay); go-redis resubscribes by itself after a reconnect.
func (r *Redis) Subscribe(ctx context.Context, channel string) (<-chan string, func(), error) {
	if err := r.check(channel); err != nil {
		return nil, nil, err
	}
	var ps *redis.PubSub
	if r.sharded() {
		ps = r.c.SSubscribe(ctx, r.key(channel))
	} else {
		ps = r.c.Subscribe(ctx, r.key(channel))
	}
	// Waiting for the confirmation guarantees that a Publish after Subscribe returns is seen.
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, nil, mapErr(err)
	}
	s := &redisSub{
		r:    r,
		ps:   ps,
		out:  make(chan string),
		done: make(chan struct{}),
	}
	r.mu.Lock()
	if r.closed.Load() {
		r.mu.Unlock()
		_ = ps.Close()
		return nil, nil, ErrClosed
	}
	r.subs[s] = struct{}{}
	r.mu.Unlock()

	go s.pump(ps.Channel(redis.WithChannelSize(1024)))
	s.mu.Lock()
	s.stopAfter = context.AfterFunc(ctx, s.cancel)
	s.mu.Unlock()
	return s.out, s.cancel, nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.check(); err != nil {
		return err
	}
	return mapErr(r.c.Ping(ctx).Err())
}

// Close implements Store: it ends this store's subscriptions but leaves the client open.
func (r *Redis) Close() error {
	r.mu.Lock()
	if r.closed.Swap(true) {
		r.mu.Unlock()
		return nil
	}
	subs := make([]*redisSub, 0, len(r.subs))
	for s := range r.subs {
		subs = append(subs, s)
	}
	r.mu.Unlock()
	for _, s := range subs {
		s.cancel()
	}
	return nil
}

type redisSub struct {
	r    *Redis
	ps   *redis.PubSub
	out  chan string
	done chan struct{}
	once sync.Once

	mu        sync.Mutex
	stopAfter func() bool
}

func (s *redisSub) pump(msgs <-chan *redis.Message) {
	defer close(s.out)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			select {
			case s.out <- m.Payload:
			case <-s.done:
				return
			}
		case <-s.done:
			return
		}
	}
}

func (s *redisSub) cancel() {
	s.once.Do(func() {
		close(s.done)
		_ = s.ps.Close()
		s.mu.Lock()
		stop := s.stopAfter
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
		s.r.mu.Lock()
		delete(s.r.subs, s)
		s.r.mu.Unlock()
	})
}
