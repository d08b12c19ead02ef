package state

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"
)

// janitorInterval bounds how long an expired key that nobody reads again keeps its memory.
const janitorInterval = 30 * time.Second

// Memory is the in-process Store for the embedded single-process default. It is safe for
// concurrent use; every operation runs under one mutex, which makes each one atomic as on Redis.
type Memory struct {
	now func() time.Time

	mu     sync.Mutex
	data   map[string]*item // changed only through put and drop, which keep limits exact
	limits []*keyLimit      // see LimitKeys
	subs   map[string]map[*memSub]struct{}
	closed bool

	stop        chan struct{}
	janitorDone chan struct{}
}

type item struct {
	str    string
	set    map[string]struct{} // non-nil when the key holds a set
	expire time.Time           // zero: no expiry
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store whose janitor goroutine runs until Close.
func NewMemory() *Memory { return NewMemoryWithClock(time.Now) }

// NewMemoryWithClock is NewMemory with an injected clock, so tests can expire keys without sleeping.
func NewMemoryWithClock(now func() time.Time) *Memory {
	m := &Memory{
		now:         now,
		data:        make(map[string]*item),
		subs:        make(map[string]map[*memSub]struct{}),
		stop:        make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	go m.janitor(janitorInterval)
	return m
}

func (m *Memory) janitor(interval time.Duration) {
	defer close(m.janitorDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			m.sweep()
		case <-m.stop:
			return
		}
	}
}

// sweep drops every expired key; lazy expiry alone would keep keys that are never read again.
func (m *Memory) sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, it := range m.data {
		if it.expired(now) {
			m.drop(k)
		}
	}
}

// lock takes the mutex unless ctx is done or the store closed; on success the caller unlocks.
func (m *Memory) lock(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return time.Time{}, ErrClosed
	}
	return m.now(), nil
}

func (it *item) expired(now time.Time) bool {
	return !it.expire.IsZero() && !now.Before(it.expire)
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl == 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// lookup returns the live item at key, deleting it if it has expired. Callers hold m.mu.
func (m *Memory) lookup(key string, now time.Time) *item {
	it, ok := m.data[key]
	if !ok {
		return nil
	}
	if it.expired(now) {
		m.drop(key)
		return nil
	}
	return it
}

// lookupString is lookup for string operations.
func (m *Memory) lookupString(key string, now time.Time) (*item, error) {
	it := m.lookup(key, now)
	if it != nil && it.set != nil {
		return nil, ErrWrongType
	}
	return it, nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, key string) (string, bool, error) {
	if err := checkKeys(key); err != nil {
		return "", false, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return "", false, err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil || it == nil {
		return "", false, err
	}
	return it.str, true, nil
}

// MGet implements Store.
func (m *Memory) MGet(ctx context.Context, keys ...string) ([]*string, error) {
	if err := checkKeys(keys...); err != nil {
		return nil, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := make([]*string, len(keys))
	for i, k := range keys {
		it, err := m.lookupString(k, now)
		if err != nil {
			return nil, err
		}
		if it != nil {
			v := it.str
			out[i] = &v
		}
	}
	return out, nil
}

// Set implements Store.
func (m *Memory) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := checkKeys(key); err != nil {
		return err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	return m.put(key, &item{str: value, expire: expiry(now, ttl)})
}

// SetNX implements Store.
func (m *Memory) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if err := checkKeys(key); err != nil {
		return false, err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return false, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if m.lookup(key, now) != nil {
		return false, nil
	}
	if err := m.put(key, &item{str: value, expire: expiry(now, ttl)}); err != nil {
		return false, err
	}
	return true, nil
}

// GetDel implements Store.
func (m *Memory) GetDel(ctx context.Context, key string) (string, bool, error) {
	if err := checkKeys(key); err != nil {
		return "", false, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return "", false, err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil || it == nil {
		return "", false, err
	}
	m.drop(key)
	return it.str, true, nil
}

// Del implements Store.
func (m *Memory) Del(ctx context.Context, keys ...string) error {
	if err := checkKeys(keys...); err != nil {
		return err
	}
	if _, err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	for _, k := range keys {
		m.drop(k)
	}
	return nil
}

// Incr implements Store.
func (m *Memory) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if err := checkKeys(key); err != nil {
		return 0, err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return 0, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil {
		return 0, err
	}
	if it == nil {
		if err := m.put(key, &item{str: "1", expire: expiry(now, ttl)}); err != nil {
			return 0, err
		}
		return 1, nil
	}
	n, err := strconv.ParseInt(it.str, 10, 64)
	if err != nil || n == math.MaxInt64 {
		return 0, ErrNotInteger
	}
	n++
	it.str = strconv.FormatInt(n, 10)
	return n, nil
}

// CompareAndSwap implements Store.
func (m *Memory) CompareAndSwap(ctx context.Context, key, old, new string, ttl time.Duration) (bool, error) {
	if err := checkKeys(key); err != nil {
		return false, err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return false, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil || it == nil || it.str != old {
		return false, err
	}
	return true, m.put(key, &item{str: new, expire: expiry(now, ttl)})
}

// CompareAndDelete implements Store.
func (m *Memory) CompareAndDelete(ctx context.Context, key, old string) (bool, error) {
	if err := checkKeys(key); err != nil {
		return false, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	it, err := m.lookupString(key, now)
	if err != nil || it == nil || it.str != old {
		return false, err
	}
	m.drop(key)
	return true, nil
}

// TTL implements Store.
func (m *Memory) TTL(ctx context.Context, key string) (time.Duration, bool, error) {
	if err := checkKeys(key); err != nil {
		return 0, false, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return 0, false, err
	}
	defer m.mu.Unlock()
	it := m.lookup(key, now)
	if it == nil {
		return 0, false, nil
	}
	if it.expire.IsZero() {
		return 0, true, nil
	}
	return it.expire.Sub(now), true, nil
}

// SAdd implements Store.
func (m *Memory) SAdd(ctx context.Context, key, member string, ttl time.Duration) error {
	if err := checkKeys(key); err != nil {
		return err
	}
	ttl, err := normTTL(ttl)
	if err != nil {
		return err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	it := m.lookup(key, now)
	switch {
	case it == nil:
		return m.put(key, &item{set: map[string]struct{}{member: {}}, expire: expiry(now, ttl)})
	case it.set == nil:
		return ErrWrongType
	}
	it.set[member] = struct{}{}
	switch {
	case ttl == 0:
		it.expire = time.Time{}
	case !it.expire.IsZero() && it.expire.Before(now.Add(ttl)):
		it.expire = now.Add(ttl)
	}
	return nil
}

// SMembers implements Store.
func (m *Memory) SMembers(ctx context.Context, key string) ([]string, error) {
	if err := checkKeys(key); err != nil {
		return nil, err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	it := m.lookup(key, now)
	if it == nil {
		return []string{}, nil
	}
	if it.set == nil {
		return nil, ErrWrongType
	}
	out := make([]string, 0, len(it.set))
	for mem := range it.set {
		out = append(out, mem)
	}
	return out, nil
}

// SRem implements Store.
func (m *Memory) SRem(ctx context.Context, key string, members ...string) error {
	if err := checkKeys(key); err != nil {
		return err
	}
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	it := m.lookup(key, now)
	if it == nil {
		return nil
	}
	if it.set == nil {
		return ErrWrongType
	}
	for _, mem := range members {
		delete(it.set, mem)
	}
	if len(it.set) == 0 {
		m.drop(key)
	}
	return nil
}

// Publish implements Store.
func (m *Memory) Publish(ctx context.Context, channel, message string) error {
	if err := checkKeys(channel); err != nil {
		return err
	}
	if _, err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	for s := range m.subs[channel] {
		s.push(message)
	}
	return nil
}

// Subscribe implements Store.
func (m *Memory) Subscribe(ctx context.Context, channel string) (<-chan string, func(), error) {
	if err := checkKeys(channel); err != nil {
		return nil, nil, err
	}
	if _, err := m.lock(ctx); err != nil {
		return nil, nil, err
	}
	s := &memSub{
		m:       m,
		channel: channel,
		out:     make(chan string),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if m.subs[channel] == nil {
		m.subs[channel] = make(map[*memSub]struct{})
	}
	m.subs[channel][s] = struct{}{}
	m.mu.Unlock()

	go s.pump()
	s.mu.Lock()
	s.stopAfter = context.AfterFunc(ctx, s.cancel)
	s.mu.Unlock()
	return s.out, s.cancel, nil
}

// Ping implements Store.
func (m *Memory) Ping(ctx context.Context) error {
	if _, err := m.lock(ctx); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

// Close implements Store: it stops the janitor, drops all data and ends all subscriptions.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.data = nil
	var subs []*memSub
	for _, set := range m.subs {
		for s := range set {
			subs = append(subs, s)
		}
	}
	m.subs = nil
	m.mu.Unlock()

	close(m.stop)
	<-m.janitorDone
	for _, s := range subs {
		s.cancel()
	}
	return nil
}

// memSub queues messages without bound so that Publish never blocks on, and never drops for, a
// slow subscriber: a lost revocation message would leave a replica trusting a revoked token.
type memSub struct {
	m       *Memory
	channel string
	out     chan string

	mu    sync.Mutex
	queue []string

	wake      chan struct{} // capacity 1: a pending wake-up is enough
	done      chan struct{}
	once      sync.Once
	stopAfter func() bool
}

func (s *memSub) push(msg string) {
	s.mu.Lock()
	s.queue = append(s.queue, msg)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *memSub) pump() {
	defer close(s.out)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.queue = nil // release the backing array after a burst
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		msg := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		select {
		case s.out <- msg:
		case <-s.done:
			return
		}
	}
}

func (s *memSub) cancel() {
	s.once.Do(func() {
		close(s.done)
		// A cancel racing with Subscribe may run before stopAfter is set; the AfterFunc then
		// stays registered until ctx ends and fires into this spent Once, which is harmless.
		s.mu.Lock()
		stop := s.stopAfter
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
		m := s.m
		m.mu.Lock()
		if set := m.subs[s.channel]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(m.subs, s.channel)
			}
		}
		m.mu.Unlock()
	})
}
