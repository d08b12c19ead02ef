package state

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMemoryLimitKeys(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{now: time.Unix(1_700_000_000, 0)}
	m := NewMemoryWithClock(clock.Now)
	defer m.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	full := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrFull) {
			t.Fatalf("%s at the limit: %v, want ErrFull", what, err)
		}
	}

	must(m.Set(ctx, "q:before", "v", 0)) // keys present when the limit is set count
	m.LimitKeys("q:", 3)
	_, err := m.Incr(ctx, "q:a", time.Hour)
	must(err)
	must(m.SAdd(ctx, "q:set", "member", time.Minute))

	// Every way of creating a key is refused at the limit...
	_, err = m.Incr(ctx, "q:b", time.Hour)
	full("Incr", err)
	full("Set", m.Set(ctx, "q:b", "v", 0))
	_, err = m.SetNX(ctx, "q:b", "v", 0)
	full("SetNX", err)
	full("SAdd", m.SAdd(ctx, "q:b", "member", 0))
	if _, ok, _ := m.Get(ctx, "q:b"); ok {
		t.Fatal("a refused key was stored")
	}
	// ...while existing keys and other prefixes work as usual.
	if n, err := m.Incr(ctx, "q:a", time.Hour); err != nil || n != 2 {
		t.Fatalf("Incr of an existing key: %d %v", n, err)
	}
	must(m.Set(ctx, "q:before", "w", 0))
	must(m.SAdd(ctx, "q:set", "other", 0))
	if ok, err := m.CompareAndSwap(ctx, "q:before", "w", "x", 0); err != nil || !ok {
		t.Fatalf("CompareAndSwap: %v %v", ok, err)
	}
	must(m.Set(ctx, "other:1", "v", 0))
	_, err = m.Incr(ctx, "other:2", 0)
	must(err)
	must(m.Del(ctx, "q:before", "q:a", "q:set"))

	// Each way a key goes makes room for exactly one new key.
	cases := []struct {
		name   string
		create func(key string) error
		remove func(key string) error
	}{
		{"Del", func(k string) error { return m.Set(ctx, k, "v", 0) },
			func(k string) error { return m.Del(ctx, k) }},
		{"GetDel", func(k string) error { return m.Set(ctx, k, "v", 0) },
			func(k string) error { _, _, err := m.GetDel(ctx, k); return err }},
		{"CompareAndDelete", func(k string) error { return m.Set(ctx, k, "v", 0) },
			func(k string) error { _, err := m.CompareAndDelete(ctx, k, "v"); return err }},
		{"SRem of the last member", func(k string) error { return m.SAdd(ctx, k, "v", 0) },
			func(k string) error { return m.SRem(ctx, k, "v") }},
		{"expiry, seen by a read", func(k string) error { _, err := m.Incr(ctx, k, time.Minute); return err },
			func(k string) error { clock.Advance(time.Minute); _, _, err := m.Get(ctx, k); return err }},
		{"expiry, swept", func(k string) error { return m.Set(ctx, k, "v", time.Minute) },
			func(string) error { clock.Advance(time.Minute); m.sweep(); return nil }},
	}
	for _, c := range cases {
		fillers := []string{"q:fill1", "q:fill2"}
		for _, k := range fillers {
			must(m.Set(ctx, k, "v", 0))
		}
		must(c.create("q:victim"))
		full(c.name+": before", m.Set(ctx, "q:probe", "v", 0))
		must(c.remove("q:victim"))
		if err := m.Set(ctx, "q:probe", "v", 0); err != nil {
			t.Fatalf("%s did not make room: %v", c.name, err)
		}
		full(c.name+": after", m.Set(ctx, "q:probe2", "v", 0))
		must(m.Del(ctx, append(fillers, "q:probe")...))
	}

	// An expired key not yet removed still counts, and replacing it is not a new key.
	must(m.Set(ctx, "q:x", "v", time.Second))
	must(m.Set(ctx, "q:y", "v", 0))
	must(m.Set(ctx, "q:z", "v", 0))
	clock.Advance(time.Second)
	must(m.Set(ctx, "q:x", "again", 0))
	full("after replacing an expired key", m.Set(ctx, "q:w", "v", 0))

	// A new maximum applies at once.
	m.LimitKeys("q:", 4)
	must(m.Set(ctx, "q:w", "v", 0))
	full("at the new maximum", m.Set(ctx, "q:v", "v", 0))
}

func TestMemoryLimitKeysConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	defer m.Close()
	const limit = 10
	m.LimitKeys("q:", limit)
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.Incr(ctx, "q:"+strconv.Itoa(i), time.Hour)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrFull):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != limit || refused.Load() != 200-limit || m.len() != limit {
		t.Fatalf("%d created, %d refused, %d keys; want %d created", ok.Load(), refused.Load(), m.len(), limit)
	}
}
