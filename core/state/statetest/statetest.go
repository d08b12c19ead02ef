// Package statetest is test support for code that uses Redis through core/state: it finds the test
// server, isolates each test under its own key prefix and offers a fake clock for the in-process
// implementations.
package statetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cashlessmedia/cashless-auth/core/state"
)

// EnvRedisURL names the environment variable that points tests at a Redis server.
const EnvRedisURL = "CASHLESS_AUTH_TEST_REDIS_URL"

// DefaultRedisURL is used when EnvRedisURL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL returns env CASHLESS_AUTH_TEST_REDIS_URL or "redis://127.0.0.1:6379/0"; any form that
// state.OpenRedis accepts works, Cluster and Sentinel included.
func RedisURL() string {
	if u := strings.TrimSpace(os.Getenv(EnvRedisURL)); u != "" {
		return u
	}
	return DefaultRedisURL
}

// Client returns a client to RedisURL, closed when the test ends. An unreachable server fails the
// test instead of skipping it, so a CI job without Redis cannot pass silently.
//
// Under `go test -short` (make test-short) it skips the test without contacting Redis, with
// SkipMessage; only -short does this, the full run (make test) still needs the server.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	if short() {
		t.Skip(SkipMessage())
	}
	u := RedisURL()
	c, err := state.OpenRedis(u)
	if err != nil {
		t.Fatalf("statetest: cannot use Redis URL %s (set %s): %v", state.RedactRedisURL(u), EnvRedisURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("statetest: Redis at %s is unreachable: %v (start one there or set %s to a reachable server)",
			state.RedactRedisURL(u), err, EnvRedisURL)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// short reports whether Redis is to be left alone; a variable so this package's own tests can
// check both behaviours in one run.
var short = testing.Short

// SkipMessage says why a test that needs Redis is skipped under -short and how to run it.
func SkipMessage() string {
	return fmt.Sprintf("statetest: -short: skipped, this test needs a Redis server (%s, default %s); "+
		"`make test` runs it", EnvRedisURL, DefaultRedisURL)
}

// Prefix returns a fresh key prefix "test:<random>:" for this test and deletes every key under it
// when the test ends, so tests can run in parallel against one server and leave nothing behind.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, c, prefix); err != nil {
			t.Errorf("statetest: cleaning up keys %s*: %v", prefix, err)
		}
	})
	return prefix
}

// DeletePrefix deletes every key starting with prefix, on every master when c is a Cluster client.
func DeletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	pattern := escapeGlob(prefix) + "*"
	del := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			// One key per DEL: keys under a prefix may span Cluster slots.
			if err := node.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	}
	return del(ctx, c)
}

func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Clock is a manual clock for NewMemoryWithClock constructors; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start; the zero start becomes a fixed, arbitrary instant.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	}
	return &Clock{now: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
