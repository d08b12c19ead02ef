package revocation

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

func fetcher(calls *int, v string, found bool) func(context.Context) (string, bool, error) {
	return func(context.Context) (string, bool, error) {
		*calls++
		return v, found, nil
	}
}

func stores(t *testing.T) map[string][2]state.Store {
	c := statetest.Client(t)
	prefix := statetest.Prefix(t, c)
	mem := state.NewMemory()
	t.Cleanup(func() { mem.Close() })
	a, b := state.NewRedis(c, prefix), state.NewRedis(c, prefix)
	t.Cleanup(func() { a.Close(); b.Close() })
	return map[string][2]state.Store{"memory": {mem, mem}, "redis": {a, b}}
}

func TestCacheRevocationReachesOtherReplicas(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := New[string](st[0], "revocations", time.Hour)
			b := New[string](st[1], "revocations", time.Hour)
			for _, c := range []*Cache[string]{a, b} {
				if err := c.Start(ctx); err != nil {
					t.Fatal(err)
				}
				defer c.Stop()
			}
			calls := 0
			for i := 0; i < 3; i++ {
				if v, ok, _ := b.Load(ctx, "k", fetcher(&calls, "v1", true)); !ok || v != "v1" {
					t.Fatalf("load: %q %v", v, ok)
				}
			}
			if calls != 1 {
				t.Fatalf("fetched %d times, want 1 (cached)", calls)
			}
			if err := a.Revoke(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				_, ok, _ := b.Load(ctx, "k", fetcher(&calls, "", false))
				if !ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("revocation never reached the other replica")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

func TestCacheEntriesExpireAndNegativesAreNotCached(t *testing.T) {
	st := state.NewMemory()
	defer st.Close()
	c := New[string](st, "rev", time.Minute)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	now := time.Now()
	c.now = func() time.Time { return now }
	calls := 0
	c.Load(context.Background(), "k", fetcher(&calls, "", false))
	c.Load(context.Background(), "k", fetcher(&calls, "v", true))
	if calls != 2 {
		t.Fatalf("a negative answer was cached (%d fetches)", calls)
	}
	c.Load(context.Background(), "k", fetcher(&calls, "v", true))
	now = now.Add(2 * time.Minute)
	c.Load(context.Background(), "k", fetcher(&calls, "v", true))
	if calls != 3 {
		t.Fatalf("fetches %d, want 3 (one cached, one after expiry)", calls)
	}
}

func TestFetchRacingARevocationIsNotCached(t *testing.T) {
	st := state.NewMemory()
	defer st.Close()
	c := New[string](st, "rev", time.Hour)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	calls := 0
	_, ok, _ := c.Load(context.Background(), "k", func(ctx context.Context) (string, bool, error) {
		calls++
		// The key is revoked while its (now stale) value is in flight.
		_ = c.Revoke(ctx, "k")
		return "stale", true, nil
	})
	if !ok {
		t.Fatal("the in-flight answer itself is returned")
	}
	c.Load(context.Background(), "k", fetcher(&calls, "", false))
	if calls != 2 {
		t.Fatal("a value fetched across a revocation was cached")
	}
}

// TestRevokeHoldsEverywhereWhenItReturns: once Revoke returns, no other replica answers from its
// cache, not merely "soon" (a client that saw the revocation succeed asks another replica next).
func TestRevokeHoldsEverywhereWhenItReturns(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := New[string](st[0], "revocations", time.Hour)
			others := []*Cache[string]{New[string](st[1], "revocations", time.Hour), New[string](st[1], "revocations", time.Hour)}
			for _, c := range append([]*Cache[string]{a}, others...) {
				if err := c.Start(ctx); err != nil {
					t.Fatal(err)
				}
				defer c.Stop()
			}
			for i := range 200 {
				key := "k" + strconv.Itoa(i)
				calls := 0
				for _, o := range others {
					o.Load(ctx, key, fetcher(&calls, "v", true))
				}
				if err := a.Revoke(ctx, key); err != nil {
					t.Fatal(err)
				}
				for j, o := range others {
					if _, ok, _ := o.Load(ctx, key, fetcher(&calls, "", false)); ok {
						t.Fatalf("round %d: replica %d still answers a revoked key from its cache after Revoke returned", i, j)
					}
				}
			}
		})
	}
}
