package state

import (
	"errors"
	"strings"
)

// ErrFull is returned by an operation that would create a key beyond a limit set with
// KeyLimiter.LimitKeys. Operations on keys that exist are never refused.
var ErrFull = errors.New("state: key limit reached")

// KeyLimiter is implemented by stores that must bound their own memory: the in-process Memory,
// which shares the service's heap. Redis does not implement it: its memory is bounded by the
// server's own maxmemory policy, and a per-replica count could not bound a shared keyspace.
//
// A caller whose keys an outsider can multiply (one per e-mail address submitted, say) limits
// them when the store supports it:
//
//	if kl, ok := st.(state.KeyLimiter); ok {
//		kl.LimitKeys("quota:", 100_000)
//	}
type KeyLimiter interface {
	// LimitKeys allows at most max keys whose name starts with prefix: an operation that would
	// create another fails with ErrFull until one of them is deleted or expires. Expired keys
	// count until they are removed, lazily or by the store's periodic sweep. Calling it again
	// for the same prefix changes the maximum.
	LimitKeys(prefix string, max int)
}

var _ KeyLimiter = (*Memory)(nil)

// keyLimit counts the entries of Memory.data under one prefix, expired ones included, so it
// stays exact as long as every change to data goes through put and drop.
type keyLimit struct {
	prefix string
	max    int
	n      int
}

// LimitKeys implements KeyLimiter.
func (m *Memory) LimitKeys(prefix string, max int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.limits {
		if l.prefix == prefix {
			l.max = max
			return
		}
	}
	l := &keyLimit{prefix: prefix, max: max}
	for k := range m.data {
		if strings.HasPrefix(k, prefix) {
			l.n++
		}
	}
	m.limits = append(m.limits, l)
}

// put stores it at key, refusing with ErrFull a new key that a limit has no room for. Callers
// hold m.mu.
func (m *Memory) put(key string, it *item) error {
	if _, exists := m.data[key]; !exists {
		for _, l := range m.limits {
			if strings.HasPrefix(key, l.prefix) && l.n >= l.max {
				return ErrFull
			}
		}
		for _, l := range m.limits {
			if strings.HasPrefix(key, l.prefix) {
				l.n++
			}
		}
	}
	m.data[key] = it
	return nil
}

// drop deletes key. Callers hold m.mu.
func (m *Memory) drop(key string) {
	if _, exists := m.data[key]; !exists {
		return
	}
	delete(m.data, key)
	for _, l := range m.limits {
		if strings.HasPrefix(key, l.prefix) {
			l.n--
		}
	}
}
