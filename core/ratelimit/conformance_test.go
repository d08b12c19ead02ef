package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

// harness is one isolated limiter plus a way to let time pass: a fake clock for Memory, a real
// sleep for Redis, whose GCRA runs on the server clock.
type harness struct {
	lim     ratelimit.Limiter
	advance func(time.Duration)
	// slack absorbs the real time that passes between Redis calls.
	slack time.Duration
}

func TestMemoryConformance(t *testing.T) {
	runSuite(t, func(t *testing.T) harness {
		clock := statetest.NewClock(time.Time{})
		return harness{lim: ratelimit.NewMemoryWithClock(clock.Now), advance: clock.Advance}
	})
}

func TestRedisConformance(t *testing.T) {
	c := statetest.Client(t)
	runSuite(t, func(t *testing.T) harness {
		return harness{lim: ratelimit.NewRedis(c, statetest.Prefix(t, c)), advance: time.Sleep, slack: 250 * time.Millisecond}
	})
}

func runSuite(t *testing.T, newHarness func(t *testing.T) harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h harness)
	}{
		{"Burst", testBurst},
		{"Refill", testRefill},
		{"KeysAreIndependent", testKeysIndependent},
		{"InvalidInput", testInvalidInput},
		{"Concurrent", testConcurrent},
		{"Day", testDay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t))
		})
	}
}

var bg = context.Background()

func allow(t *testing.T, h harness, key string, rule ratelimit.Rule) ratelimit.Result {
	t.Helper()
	res, err := h.lim.Allow(bg, key, rule)
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed != (res.RetryAfter == 0) {
		t.Fatalf("inconsistent result %+v: RetryAfter must be > 0 exactly when refused", res)
	}
	if res.Remaining < 0 || res.Remaining >= rule.Limit {
		t.Fatalf("Remaining %d out of [0, %d)", res.Remaining, rule.Limit)
	}
	return res
}

// wantRefused checks a refusal whose RetryAfter is in (want - slack - 10ms, want].
func wantRefused(t *testing.T, h harness, key string, rule ratelimit.Rule, want time.Duration) {
	t.Helper()
	res := allow(t, h, key, rule)
	if res.Allowed {
		t.Fatalf("allowed %+v, want refused", res)
	}
	if res.Remaining != 0 {
		t.Fatalf("refused with Remaining %d", res.Remaining)
	}
	if res.RetryAfter > want+time.Millisecond || res.RetryAfter < want-h.slack-10*time.Millisecond {
		t.Fatalf("RetryAfter = %s, want about %s", res.RetryAfter, want)
	}
}

func testBurst(t *testing.T, h harness) {
	rule := ratelimit.Rule{Limit: 5, Period: time.Minute}
	for i := range 5 {
		res := allow(t, h, "route:login:ip:1.2.3.4", rule)
		if !res.Allowed || res.Remaining != 4-i {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, res, 4-i)
		}
	}
	wantRefused(t, h, "route:login:ip:1.2.3.4", rule, 12*time.Second)
	// Refused requests do not consume: the wait does not grow.
	wantRefused(t, h, "route:login:ip:1.2.3.4", rule, 12*time.Second)
	res, _ := h.lim.Allow(bg, "route:login:ip:1.2.3.4", rule)
	if got := res.RetryAfterSeconds(); got != 12 {
		t.Fatalf("RetryAfterSeconds = %d, want 12", got)
	}
}

func testRefill(t *testing.T, h harness) {
	rule := ratelimit.Rule{Limit: 10, Period: time.Second} // one per 100 ms
	for range 10 {
		if !allow(t, h, "k", rule).Allowed {
			t.Fatal("refused within the burst")
		}
	}
	wantRefused(t, h, "k", rule, 100*time.Millisecond)
	h.advance(150 * time.Millisecond)
	if res := allow(t, h, "k", rule); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("after one interval: %+v, want allowed with 0 remaining", res)
	}
	wantRefused(t, h, "k", rule, 50*time.Millisecond)
	// A full period restores the full burst.
	h.advance(1100 * time.Millisecond)
	for i := range 10 {
		if res := allow(t, h, "k", rule); !res.Allowed || res.Remaining != 9-i {
			t.Fatalf("after a full period, request %d: %+v", i+1, res)
		}
	}
}

func testKeysIndependent(t *testing.T, h harness) {
	rule := ratelimit.Rule{Limit: 2, Period: time.Minute}
	allow(t, h, "a", rule)
	allow(t, h, "a", rule)
	wantRefused(t, h, "a", rule, 30*time.Second)
	for _, k := range []string{"b", "a:", "A", " a"} {
		if res := allow(t, h, k, rule); !res.Allowed || res.Remaining != 1 {
			t.Fatalf("key %q shares a's bucket: %+v", k, res)
		}
	}
}

func testInvalidInput(t *testing.T, h harness) {
	ok := ratelimit.Rule{Limit: 1, Period: time.Minute}
	if _, err := h.lim.Allow(bg, "", ok); !errors.Is(err, ratelimit.ErrEmptyKey) {
		t.Fatalf("empty key: err = %v", err)
	}
	for _, r := range []ratelimit.Rule{{}, {Limit: 0, Period: time.Minute}, {Limit: -1, Period: time.Minute}, {Limit: 1}, {Limit: 1, Period: -time.Second}, {Limit: 10, Period: 5}} {
		if _, err := h.lim.Allow(bg, "k", r); !errors.Is(err, ratelimit.ErrInvalidRule) {
			t.Fatalf("rule %+v: err = %v, want ErrInvalidRule", r, err)
		}
	}
	// The rejected calls left no trace.
	if res := allow(t, h, "k", ok); !res.Allowed {
		t.Fatalf("after rejected calls: %+v", res)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := h.lim.Allow(ctx, "k2", ok); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: err = %v", err)
	}
}

// testConcurrent is the cross-replica guarantee: racing requests never exceed the burst.
func testConcurrent(t *testing.T, h harness) {
	rule := ratelimit.Rule{Limit: 20, Period: time.Hour}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			res, err := h.lim.Allow(bg, "shared", rule)
			if err != nil {
				t.Error(err)
				return
			}
			if res.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 20 {
		t.Fatalf("%d of 60 concurrent requests allowed, want 20", n)
	}
}

func testDay(t *testing.T, h harness) {
	rule := ratelimit.Rule{Limit: 3, Period: 24 * time.Hour}
	for range 3 {
		allow(t, h, "reset:admin:1", rule)
	}
	wantRefused(t, h, "reset:admin:1", rule, 8*time.Hour)
}
