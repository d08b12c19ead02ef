package state

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (m *Memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data)
}

func TestMemoryExpiredKeysAreRemoved(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	m := NewMemoryWithClock(clock.Now)
	defer m.Close()
	for i := range 100 {
		if err := m.Set(ctx, "short:"+strconv.Itoa(i), "v", time.Second); err != nil {
			t.Fatal(err)
		}
		if err := m.SAdd(ctx, "set:"+strconv.Itoa(i), "v", time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Set(ctx, "keep", "v", 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "lazy", "v", time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)

	// Lazily, on access.
	if _, ok, _ := m.Get(ctx, "lazy"); ok {
		t.Fatal("expired key returned")
	}
	if n := m.len(); n != 201 {
		t.Fatalf("after a lazy expiry: %d keys, want 201", n)
	}
	// By the janitor, for keys nobody reads again.
	m.sweep()
	if n := m.len(); n != 1 {
		t.Fatalf("after a sweep: %d keys, want 1", n)
	}
}

func TestMemoryJanitorRunsAndStops(t *testing.T) {
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	m := &Memory{
		now:         clock.Now,
		data:        make(map[string]*item),
		subs:        make(map[string]map[*memSub]struct{}),
		stop:        make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	go m.janitor(time.Millisecond)
	if err := m.Set(context.Background(), "k", "v", time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for m.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("janitor did not remove the expired key")
		}
		time.Sleep(time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.janitorDone:
	default:
		t.Fatal("Close returned with the janitor still running")
	}
}

func TestMemorySubscriptionsAreReleased(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	defer m.Close()
	for range 10 {
		_, unsub, err := m.Subscribe(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		unsub()
	}
	m.mu.Lock()
	n := len(m.subs)
	m.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d channels still registered after every unsubscribe", n)
	}
}

// TestMemoryConcurrentMix is for -race: every operation at once on overlapping keys.
func TestMemoryConcurrentMix(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	defer m.Close()
	ch, unsub, err := m.Subscribe(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range ch {
		}
	}()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := "k" + strconv.Itoa(i%7)
				_ = m.Set(ctx, k, strconv.Itoa(i), time.Millisecond*time.Duration(i%3))
				_, _, _ = m.Get(ctx, k)
				_, _ = m.MGet(ctx, k, "k1", "k2")
				_, _ = m.Incr(ctx, "n"+strconv.Itoa(g), 0)
				_, _ = m.CompareAndSwap(ctx, k, strconv.Itoa(i), "x", 0)
				_, _, _ = m.GetDel(ctx, k)
				_ = m.SAdd(ctx, "s", k, time.Minute)
				_ = m.SRem(ctx, "s", k)
				_ = m.Publish(ctx, "c", k)
				if i%50 == 0 {
					m.sweep()
				}
			}
		})
	}
	wg.Wait()
	unsub()
}
