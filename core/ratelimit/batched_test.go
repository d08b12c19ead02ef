package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

// mapWindows is an in-process WindowStore, standing in for Redis where the test is about the
// limiter's arithmetic rather than the store.
type mapWindows struct {
	mu sync.Mutex
	m  map[string]int64
}

func (w *mapWindows) Add(_ context.Context, keys []string, deltas []int64, _ time.Duration) ([]int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]int64, len(keys))
	for i, k := range keys {
		w.m[k] += deltas[i]
		out[i] = w.m[k]
	}
	return out, nil
}

func (w *mapWindows) Get(_ context.Context, keys []string) ([]int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = w.m[k]
	}
	return out, nil
}

func TestBatchedSingleReplica(t *testing.T) {
	b := NewBatched(&mapWindows{m: map[string]int64{}}, time.Hour)
	defer b.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	b.now = func() time.Time { return now }
	rule := Rule{Limit: 10, Period: time.Minute}
	for i := 0; i < 10; i++ {
		if r, err := b.Allow(context.Background(), "k", rule); err != nil || !r.Allowed {
			t.Fatalf("request %d refused: %+v %v", i+1, r, err)
		}
	}
	r, _ := b.Allow(context.Background(), "k", rule)
	if r.Allowed || r.RetryAfter <= 0 {
		t.Fatalf("11th: %+v", r)
	}
	if _, err := b.Allow(context.Background(), "", rule); err == nil {
		t.Fatal("empty key accepted")
	}
	// Half way through the next window the previous one weighs half: 5 more fit.
	now = start.Add(90 * time.Second)
	n := 0
	for i := 0; i < 10; i++ {
		if r, _ := b.Allow(context.Background(), "k", rule); r.Allowed {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("sliding window admitted %d, want 5", n)
	}
	now = start.Add(5 * time.Minute)
	if r, _ := b.Allow(context.Background(), "k", rule); !r.Allowed {
		t.Fatal("refused long after the windows passed")
	}
}

// TestBatchedReplicasShareABudget runs two limiters (two replicas) on the real Redis.
func TestBatchedReplicasShareABudget(t *testing.T) {
	c := statetest.Client(t)
	store := NewRedisWindows(c, statetest.Prefix(t, c))
	a := NewBatched(store, time.Hour) // merges only when told, to make the test deterministic
	bb := NewBatched(store, time.Hour)
	defer a.Close()
	defer bb.Close()
	rule := Rule{Limit: 10, Period: time.Minute}
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		if r, err := a.Allow(ctx, "ip:1", rule); err != nil || !r.Allowed {
			t.Fatalf("A %d: %+v %v", i, r, err)
		}
	}
	a.merge()
	// B has never seen the key: it learns A's six on first sight.
	allowed := 0
	for i := 0; i < 10; i++ {
		r, err := bb.Allow(ctx, "ip:1", rule)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed {
			allowed++
		}
	}
	// A window may straddle a minute boundary; the sliding estimate then only grows the room.
	if allowed < 4 || allowed > 5 {
		t.Fatalf("B admitted %d after A's 6, want 4", allowed)
	}
	bb.merge()
	a.merge() // A learns B's admits through its own next merge only if it has pending ones
	if r, _ := a.Allow(ctx, "ip:1", rule); r.Allowed {
		a.merge()
	}
	got, err := store.Get(ctx, []string{windowKey("ip:1", time.Now().UnixNano()/int64(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] < 10 {
		t.Fatalf("shared counter %d, want ≥ 10", got[0])
	}
}

func BenchmarkBatchedAllow(b *testing.B) {
	l := NewBatched(&mapWindows{m: map[string]int64{}}, 100*time.Millisecond)
	defer l.Close()
	rule := Rule{Limit: 1 << 30, Period: time.Minute}
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "route:session.verify:ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(context.Background(), keys[i%len(keys)], rule); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
