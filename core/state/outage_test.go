package state_test

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/outage"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit/cutproxy"
)

// proxiedRedis is a store on the test Redis reached through a proxy the test can cut, with
// WatchOutages counting into the returned counter.
func proxiedRedis(t *testing.T) (*state.Redis, *cutproxy.Proxy, *atomic.Int32) {
	t.Helper()
	direct := statetest.Client(t) // skips under -short, fails when Redis is down
	u, err := url.Parse(statetest.RedisURL())
	if err != nil || u.Scheme != "redis" || u.Port() == "" {
		t.Skipf("needs a single Redis server as redis://host:port, not %s", state.RedactRedisURL(statetest.RedisURL()))
	}
	p := cutproxy.Start(t, u.Host)
	u.Host = p.Addr()
	q := u.Query()
	q.Set("max_retries", "-1") // fail fast: the retries are go-redis's, not under test
	u.RawQuery = q.Encode()
	c, err := state.OpenRedis(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	failed := &atomic.Int32{}
	state.WatchOutages(c, func() { failed.Add(1) })
	s := state.NewRedis(c, statetest.Prefix(t, direct))
	t.Cleanup(func() { _ = s.Close() })
	return s, p, failed
}

func wantOutage(t *testing.T, what string, err error) {
	t.Helper()
	if dep, ok := outage.Of(err); !ok || dep != outage.Redis {
		t.Errorf("%s: %v, want a redis outage", what, err)
	}
}

// TestRedisOutagesAreMarkedAndCountedOnce: with Redis unreachable every call fails as an
// outage.Error naming redis, counted once per call, a pipeline (MGet) included; business
// answers (a missing key, a wrong type) and callers that gave up are not outages, and a
// deadline of the service's own is one.
func TestRedisOutagesAreMarkedAndCountedOnce(t *testing.T) {
	s, p, failed := proxiedRedis(t)
	must(t, s.SAdd(bg, "set", "m", time.Minute))
	if _, _, err := s.Get(bg, "missing"); err != nil {
		t.Fatalf("Get of a missing key: %v", err)
	}
	if _, _, err := s.Get(bg, "set"); !errors.Is(err, state.ErrWrongType) {
		t.Fatalf("Get of a set: %v, want ErrWrongType", err)
	}
	if _, ok := outage.Of(nil); ok {
		t.Fatal("outage.Of(nil) reports an outage")
	}
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d outages counted for business answers", n)
	}

	cancelled, cancel := context.WithCancel(bg)
	cancel()
	if _, _, err := s.Get(cancelled, "missing"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: %v", err)
	} else if _, ok := outage.Of(err); ok {
		t.Errorf("Get with a cancelled context is marked as an outage: %v", err)
	}
	expired, cancel := context.WithDeadline(bg, time.Now().Add(-time.Second))
	defer cancel()
	_, _, err := s.Get(expired, "missing")
	wantOutage(t, "Get past the service's own deadline", err)
	if n := failed.Load(); n != 1 {
		t.Fatalf("%d outages counted for a cancelled call and one past its deadline, want 1", n)
	}

	p.Cut()
	_, _, err = s.Get(bg, "k")
	wantOutage(t, "Get with Redis cut", err)
	_, err = s.MGet(bg, "a", "b", "c")
	wantOutage(t, "MGet with Redis cut", err)
	err = s.Set(bg, "k", "v", time.Minute)
	wantOutage(t, "Set with Redis cut", err)
	if n := failed.Load(); n != 4 {
		t.Errorf("%d outages counted after three failed calls with Redis cut, want 4 (1 before)", n)
	}

	p.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for s.Set(bg, "k", "v", time.Minute) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Redis calls still fail 10 s after the restore")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
