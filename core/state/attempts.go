package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Attempt counters cap guesses at a secret (a password, a code) from any number of clients: an
// attempt is counted, and the lock it brings is in place, before the guess is evaluated, in one
// atomic step; so however many requests arrive at once, none can pass a check that a request in
// flight is about to fail. The counter is one key, so the operation stays atomic on Redis
// Cluster; its value is "<generation>:<attempts>:<attempt that started the lock>:<lock end, unix
// ms>:<settled>", the lock end being measured on the store's clock (Redis TIME, shared by every
// replica). A lock is pending until the attempt that started it is settled as a failure
// (SettleAttempt) or released: a refused caller may wait for that instead of failing at once, so
// that a burst of right passwords is not refused for the time the first ones are evaluated.

// AttemptPolicy says when ReserveAttempt locks a key and for how long.
type AttemptPolicy struct {
	After  int64         // attempts counted before the first lock, ≥ 1
	Base   time.Duration // the lock the After-th attempt starts; each later attempt doubles it
	Max    time.Duration // no lock is longer
	Memory time.Duration // attempts are forgotten this long after the first (a lock in force is kept)
}

// Attempt is one attempt ReserveAttempt counted.
type Attempt struct {
	N      int64         // its number among the attempts counted, from 1
	Locked time.Duration // the lock it started (the After-th attempt and every later one), 0 if none
	// Pending, on a refused reservation, says the lock was started by an attempt still being
	// evaluated: it is lifted if that one is released.
	Pending bool
	gen     string // the counter it was counted in: after a Del, a release touches nothing
}

// ErrBadPolicy is returned for an AttemptPolicy that cannot work (After < 1, Base ≤ 0,
// Max < Base, Memory ≤ 0).
var ErrBadPolicy = errors.New("state: bad attempt policy")

func (p AttemptPolicy) norm() (AttemptPolicy, error) {
	var err error
	if p.After < 1 || p.Base <= 0 || p.Max < p.Base || p.Memory <= 0 {
		return p, fmt.Errorf("%w: %+v", ErrBadPolicy, p)
	}
	if p.Base, err = normTTL(p.Base); err != nil {
		return p, err
	}
	if p.Max, err = normTTL(p.Max); err != nil {
		return p, err
	}
	p.Memory, err = normTTL(p.Memory)
	return p, err
}

// lockFor is the lock attempt n starts: Base at After, doubling per attempt, at most Max. The
// Redis script computes the same.
func (p AttemptPolicy) lockFor(n int64) time.Duration {
	if n < p.After {
		return 0
	}
	d := p.Base
	for i := p.After; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// newGeneration names a new counter.
func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// counter is the decoded value of an attempt counter.
type counter struct {
	gen      string
	n, lockN int64 // lockN 0: no lock
	until    int64 // unix ms
	settled  bool  // the attempt lockN was settled as a failure
}

func (c counter) String() string {
	settled := "0"
	if c.settled {
		settled = "1"
	}
	return c.gen + ":" + strconv.FormatInt(c.n, 10) + ":" + strconv.FormatInt(c.lockN, 10) + ":" + strconv.FormatInt(c.until, 10) + ":" + settled
}

// parseCounter also reads the four-field form of before SettleAttempt, as settled: such a lock
// holds until it ends, as it did.
func parseCounter(s string) (counter, error) {
	f := strings.Split(s, ":")
	if len(f) < 4 || len(f) > 5 || f[0] == "" || len(f) == 5 && f[4] != "0" && f[4] != "1" {
		return counter{}, ErrNotInteger
	}
	var c counter
	var errs [3]error
	c.gen = f[0]
	c.n, errs[0] = strconv.ParseInt(f[1], 10, 64)
	c.lockN, errs[1] = strconv.ParseInt(f[2], 10, 64)
	c.until, errs[2] = strconv.ParseInt(f[3], 10, 64)
	c.settled = len(f) == 4 || f[4] == "1"
	if errors.Join(errs[:]...) != nil || c.n < 0 || c.lockN < 0 {
		return counter{}, ErrNotInteger
	}
	return c, nil
}

// ReserveAttempt implements Store.
func (m *Memory) ReserveAttempt(ctx context.Context, key string, p AttemptPolicy) (Attempt, time.Duration, error) {
	if err := checkKeys(key); err != nil {
		return Attempt{}, 0, err
	}
	p, err := p.norm()
	if err != nil {
		return Attempt{}, 0, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return Attempt{}, 0, err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil {
		return Attempt{}, 0, err
	}
	nowMs := now.UnixMilli()
	c := counter{gen: newGeneration()}
	expire := now.Add(p.Memory)
	if it != nil {
		if c, err = parseCounter(it.str); err != nil {
			return Attempt{}, 0, err
		}
		if c.lockN > 0 && c.until > nowMs {
			return Attempt{Pending: !c.settled}, time.Duration(c.until-nowMs) * time.Millisecond, nil
		}
		if !it.expire.IsZero() {
			expire = it.expire
		}
	}
	c.n++
	d := p.lockFor(c.n)
	if d > 0 {
		c.lockN, c.until, c.settled = c.n, nowMs+d.Milliseconds(), false
		if end := now.Add(d); expire.Before(end) {
			expire = end
		}
	}
	if it != nil {
		it.str, it.expire = c.String(), expire
	} else if err := m.put(key, &item{str: c.String(), expire: expire}); err != nil {
		return Attempt{}, 0, err
	}
	return Attempt{N: c.n, Locked: d, gen: c.gen}, 0, nil
}

// ReleaseAttempt implements Store.
func (m *Memory) ReleaseAttempt(ctx context.Context, key string, a Attempt) error {
	return m.amendCounter(ctx, key, a, (*counter).release)
}

// SettleAttempt implements Store.
func (m *Memory) SettleAttempt(ctx context.Context, key string, a Attempt) error {
	if a.Locked == 0 {
		return checkKeys(key) // it started no lock: nothing waits for it
	}
	return m.amendCounter(ctx, key, a, (*counter).settle)
}

// amendCounter applies change for attempt a to the counter at key, unless the counter is gone or
// is a newer one (another generation) that a never counted in.
func (m *Memory) amendCounter(ctx context.Context, key string, a Attempt, change func(*counter, int64)) error {
	if err := checkKeys(key); err != nil {
		return err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil || it == nil {
		return err
	}
	c, err := parseCounter(it.str)
	if err != nil || c.gen != a.gen {
		return err
	}
	change(&c, a.N)
	it.str = c.String()
	return nil
}

// settle marks the lock no longer pending if attempt n started it.
func (c *counter) settle(n int64) {
	if c.lockN == n {
		c.settled = true
	}
}

// release uncounts attempt n and lifts the lock if n started it. A lock started by a later
// attempt stays: it may end a little early for the count, never late.
func (c *counter) release(n int64) {
	if c.n > 0 {
		c.n--
	}
	if c.lockN == n {
		c.lockN, c.until = 0, 0
	}
}

// Lua scripts touch only KEYS[1]. TIME before a write needs effects replication: the default from
// Redis 5, the only mode from 7; older servers are asked for it.
var (
	reserveAttemptScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gen, n, lockn, untl, settled = ARGV[5], 0, 0, 0, '1'
local v = redis.call('GET', KEYS[1])
if v then
  local g, a, b, c, st = string.match(v, '^(%x+):(%d+):(%d+):(%-?%d+):?([01]?)$')
  if not g then
    return redis.error_reply('ERR value is not an integer or out of range')
  end
  if st == '' then st = '1' end
  gen, n, lockn, untl, settled = g, tonumber(a), tonumber(b), tonumber(c), st
  if lockn > 0 and untl > now then
    local pending = 0
    if settled == '0' then pending = 1 end
    return {0, 0, untl - now, gen, pending}
  end
end
n = n + 1
local after, d = tonumber(ARGV[1]), 0
if n >= after then
  local max = tonumber(ARGV[3])
  d = tonumber(ARGV[2])
  local i = after
  while i < n and d < max do
    d = d * 2
    i = i + 1
  end
  if d > max then d = max end
  lockn, untl, settled = n, now + d, '0'
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[4]) end
if ttl < d then ttl = d end
redis.call('SET', KEYS[1], string.format('%s:%d:%d:%d:%s', gen, n, lockn, untl, settled), 'PX', ttl)
return {n, d, 0, gen, 0}`)

	// amendAttemptScript is counter.release (ARGV[3] "release") or counter.settle ("settle")
	// for attempt ARGV[2] of generation ARGV[1], keeping the key's expiry.
	amendAttemptScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local g, a, b, c, st = string.match(v, '^(%x+):(%d+):(%d+):(%-?%d+):?([01]?)$')
if not g then
  return redis.error_reply('ERR value is not an integer or out of range')
end
if g ~= ARGV[1] then return 0 end
if st == '' then st = '1' end
local n, lockn, untl, attempt = tonumber(a), tonumber(b), tonumber(c), tonumber(ARGV[2])
if ARGV[3] == 'release' then
  if n > 0 then n = n - 1 end
  if lockn == attempt then lockn, untl, st = 0, 0, '1' end
elseif lockn == attempt then
  st = '1'
end
local ttl = redis.call('PTTL', KEYS[1])
local val = string.format('%s:%d:%d:%d:%s', g, n, lockn, untl, st)
if ttl > 0 then
  redis.call('SET', KEYS[1], val, 'PX', ttl)
else
  redis.call('SET', KEYS[1], val)
end
return 1`)
)

// ReserveAttempt implements Store.
func (r *Redis) ReserveAttempt(ctx context.Context, key string, p AttemptPolicy) (Attempt, time.Duration, error) {
	if err := r.check(key); err != nil {
		return Attempt{}, 0, err
	}
	p, err := p.norm()
	if err != nil {
		return Attempt{}, 0, err
	}
	res, err := reserveAttemptScript.Run(ctx, r.c, []string{r.key(key)},
		p.After, p.Base.Milliseconds(), p.Max.Milliseconds(), p.Memory.Milliseconds(), newGeneration()).Slice()
	if err != nil {
		return Attempt{}, 0, mapErr(err)
	}
	if len(res) != 5 {
		return Attempt{}, 0, fmt.Errorf("state: redis: unexpected attempt reply %v", res)
	}
	n, _ := res[0].(int64)
	d, _ := res[1].(int64)
	wait, _ := res[2].(int64)
	gen, _ := res[3].(string)
	if wait > 0 {
		return Attempt{Pending: res[4] == int64(1)}, time.Duration(wait) * time.Millisecond, nil
	}
	return Attempt{N: n, Locked: time.Duration(d) * time.Millisecond, gen: gen}, 0, nil
}

// ReleaseAttempt implements Store.
func (r *Redis) ReleaseAttempt(ctx context.Context, key string, a Attempt) error {
	if err := r.check(key); err != nil {
		return err
	}
	if a.gen == "" {
		return nil // the zero Attempt was never counted
	}
	return mapErr(amendAttemptScript.Run(ctx, r.c, []string{r.key(key)}, a.gen, a.N, "release").Err())
}

// SettleAttempt implements Store.
func (r *Redis) SettleAttempt(ctx context.Context, key string, a Attempt) error {
	if err := r.check(key); err != nil {
		return err
	}
	if a.gen == "" || a.Locked == 0 {
		return nil // it started no lock: nothing waits for it
	}
	return mapErr(amendAttemptScript.Run(ctx, r.c, []string{r.key(key)}, a.gen, a.N, "settle").Err())
}
