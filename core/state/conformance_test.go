package state_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

// harness is one isolated store plus a way to let time pass: a fake clock for Memory, a real
// sleep for Redis (which is why the suite keeps expiring TTLs short and its subtests parallel).
type harness struct {
	store   state.Store
	advance func(time.Duration)
	// slack absorbs the time real Redis calls take when comparing TTLs.
	slack time.Duration
}

func TestMemoryConformance(t *testing.T) {
	runSuite(t, func(t *testing.T) harness {
		clock := statetest.NewClock(time.Time{})
		m := state.NewMemoryWithClock(clock.Now)
		t.Cleanup(func() { _ = m.Close() })
		return harness{store: m, advance: clock.Advance}
	})
}

func TestRedisConformance(t *testing.T) {
	c := statetest.Client(t)
	runSuite(t, func(t *testing.T) harness {
		r := state.NewRedis(c, statetest.Prefix(t, c))
		t.Cleanup(func() { _ = r.Close() })
		return harness{store: r, advance: time.Sleep, slack: 250 * time.Millisecond}
	})
}

func runSuite(t *testing.T, newHarness func(t *testing.T) harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h harness)
	}{
		{"GetSet", testGetSet},
		{"SetTTL", testSetTTL},
		{"InvalidArguments", testInvalidArguments},
		{"MGet", testMGet},
		{"SetNX", testSetNX},
		{"GetDel", testGetDel},
		{"GetDelConcurrent", testGetDelConcurrent},
		{"Del", testDel},
		{"Incr", testIncr},
		{"IncrTTL", testIncrTTL},
		{"IncrConcurrent", testIncrConcurrent},
		{"CompareAndSwap", testCompareAndSwap},
		{"CompareAndSwapConcurrent", testCompareAndSwapConcurrent},
		{"CompareAndDelete", testCompareAndDelete},
		{"TTL", testTTL},
		{"AttemptSequence", testAttemptSequence},
		{"AttemptRelease", testAttemptRelease},
		{"AttemptSettle", testAttemptSettle},
		{"AttemptExpiry", testAttemptExpiry},
		{"AttemptConcurrent", testAttemptConcurrent},
		{"AttemptErrors", testAttemptErrors},
		{"Sets", testSets},
		{"SetTTLExtendOnly", testSAddTTL},
		{"WrongType", testWrongType},
		{"PubSub", testPubSub},
		{"SubscribeContext", testSubscribeContext},
		{"CanceledContext", testCanceledContext},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newHarness(t))
		})
	}
}

var bg = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantGet(t *testing.T, s state.Store, key, want string, wantOK bool) {
	t.Helper()
	v, ok, err := s.Get(bg, key)
	must(t, err)
	if ok != wantOK || v != want {
		t.Fatalf("Get(%q) = %q, %v; want %q, %v", key, v, ok, want, wantOK)
	}
}

// wantTTL checks a remaining TTL lies in (want - slack - 50ms, want].
func wantTTL(t *testing.T, h harness, key string, want time.Duration) {
	t.Helper()
	got, ok, err := h.store.TTL(bg, key)
	must(t, err)
	if !ok {
		t.Fatalf("TTL(%q): key missing, want %s", key, want)
	}
	if want == 0 {
		if got != 0 {
			t.Fatalf("TTL(%q) = %s, want no expiry", key, got)
		}
		return
	}
	if got > want || got < want-h.slack-50*time.Millisecond {
		t.Fatalf("TTL(%q) = %s, want about %s", key, got, want)
	}
}

func testGetSet(t *testing.T, h harness) {
	s := h.store
	wantGet(t, s, "k", "", false)
	must(t, s.Set(bg, "k", "v1", 0))
	wantGet(t, s, "k", "v1", true)
	must(t, s.Set(bg, "k", "v2", 0))
	wantGet(t, s, "k", "v2", true)
	must(t, s.Set(bg, "empty", "", 0))
	wantGet(t, s, "empty", "", true)
	bin := "a\x00b\xff\n"
	must(t, s.Set(bg, "bin", bin, 0))
	wantGet(t, s, "bin", bin, true)
}

func testSetTTL(t *testing.T, h harness) {
	s := h.store
	must(t, s.Set(bg, "short", "v", 400*time.Millisecond))
	must(t, s.Set(bg, "long", "v", time.Hour))
	must(t, s.Set(bg, "cleared", "v", 400*time.Millisecond))
	must(t, s.Set(bg, "cleared", "v", 0)) // Set replaces the TTL too
	wantTTL(t, h, "short", 400*time.Millisecond)
	wantTTL(t, h, "long", time.Hour)
	wantTTL(t, h, "cleared", 0)
	h.advance(600 * time.Millisecond)
	wantGet(t, s, "short", "", false)
	wantGet(t, s, "long", "v", true)
	wantGet(t, s, "cleared", "v", true)
	if _, ok, err := s.TTL(bg, "short"); err != nil || ok {
		t.Fatalf("TTL of expired key: ok=%v err=%v", ok, err)
	}
}

func testInvalidArguments(t *testing.T, h harness) {
	s := h.store
	neg := -time.Second
	for name, err := range map[string]error{
		"Set":   s.Set(bg, "k", "v", neg),
		"SetNX": second(s.SetNX(bg, "k", "v", neg)),
		"Incr":  second(s.Incr(bg, "k", neg)),
		"CAS":   second(s.CompareAndSwap(bg, "k", "a", "b", neg)),
		"SAdd":  s.SAdd(bg, "k", "m", neg),
	} {
		if !errors.Is(err, state.ErrNegativeTTL) {
			t.Errorf("%s with negative ttl: err = %v, want ErrNegativeTTL", name, err)
		}
	}
	_, _, getErr := s.Get(bg, "")
	_, mgetErr := s.MGet(bg, "a", "")
	_, _, ttlErr := s.TTL(bg, "")
	for name, err := range map[string]error{
		"Get":       getErr,
		"MGet":      mgetErr,
		"Set":       s.Set(bg, "", "v", 0),
		"Del":       s.Del(bg, "a", ""),
		"Incr":      second(s.Incr(bg, "", 0)),
		"CAD":       second(s.CompareAndDelete(bg, "", "v")),
		"TTL":       ttlErr,
		"SAdd":      s.SAdd(bg, "", "m", 0),
		"SRem":      s.SRem(bg, "", "m"),
		"Publish":   s.Publish(bg, "", "m"),
		"Subscribe": third(s.Subscribe(bg, "")),
	} {
		if !errors.Is(err, state.ErrEmptyKey) {
			t.Errorf("%s with empty key: err = %v, want ErrEmptyKey", name, err)
		}
	}
	// Nothing may have been written under "k" or "".
	got, err := s.MGet(bg, "k")
	must(t, err)
	if got[0] != nil {
		t.Fatalf("a rejected call wrote %q", *got[0])
	}
}

func second[T any](_ T, err error) error { return err }

func third[A, B any](_ A, _ B, err error) error { return err }

func testMGet(t *testing.T, h harness) {
	s := h.store
	got, err := s.MGet(bg)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("MGet() = %v, want empty", got)
	}
	// Many keys so that, on Cluster, they span slots and nodes.
	var keys []string
	for i := range 100 {
		k := fmt.Sprintf("mget:%d", i)
		keys = append(keys, k)
		if i%3 != 0 {
			must(t, s.Set(bg, k, "v"+strconv.Itoa(i), 0))
		}
	}
	keys = append(keys, "mget:1") // duplicates are answered twice
	got, err = s.MGet(bg, keys...)
	must(t, err)
	if len(got) != len(keys) {
		t.Fatalf("MGet returned %d entries for %d keys", len(got), len(keys))
	}
	for i, v := range got[:100] {
		switch {
		case i%3 == 0 && v != nil:
			t.Errorf("MGet[%d] = %q, want missing", i, *v)
		case i%3 != 0 && (v == nil || *v != "v"+strconv.Itoa(i)):
			t.Errorf("MGet[%d] = %v, want v%d", i, v, i)
		}
	}
	if v := got[100]; v == nil || *v != "v1" {
		t.Errorf("duplicate key: got %v", v)
	}
}

func testSetNX(t *testing.T, h harness) {
	s := h.store
	ok, err := s.SetNX(bg, "k", "first", 400*time.Millisecond)
	must(t, err)
	if !ok {
		t.Fatal("SetNX on a missing key = false")
	}
	ok, err = s.SetNX(bg, "k", "second", time.Hour)
	must(t, err)
	if ok {
		t.Fatal("SetNX on an existing key = true")
	}
	wantGet(t, s, "k", "first", true)
	wantTTL(t, h, "k", 400*time.Millisecond)
	h.advance(600 * time.Millisecond)
	ok, err = s.SetNX(bg, "k", "third", 0)
	must(t, err)
	if !ok {
		t.Fatal("SetNX after expiry = false")
	}
	wantGet(t, s, "k", "third", true)
	wantTTL(t, h, "k", 0)
}

func testGetDel(t *testing.T, h harness) {
	s := h.store
	must(t, s.Set(bg, "k", "v", time.Hour))
	v, ok, err := s.GetDel(bg, "k")
	must(t, err)
	if !ok || v != "v" {
		t.Fatalf("GetDel = %q, %v", v, ok)
	}
	if _, ok, err := s.GetDel(bg, "k"); err != nil || ok {
		t.Fatalf("second GetDel: ok=%v err=%v", ok, err)
	}
	wantGet(t, s, "k", "", false)
}

// testGetDelConcurrent is the single-use guarantee for one-time codes: one taker wins.
func testGetDelConcurrent(t *testing.T, h harness) {
	s := h.store
	for round := range 5 {
		key := "code:" + strconv.Itoa(round)
		must(t, s.Set(bg, key, "secret", time.Minute))
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, ok, err := s.GetDel(bg, key)
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d GetDel winners, want 1", round, n)
		}
	}
}

func testDel(t *testing.T, h harness) {
	s := h.store
	must(t, s.Del(bg))
	for i := range 20 {
		must(t, s.Set(bg, "del:"+strconv.Itoa(i), "v", 0))
	}
	must(t, s.SAdd(bg, "del:set", "m", 0))
	must(t, s.Del(bg, "del:0"))
	keys := []string{"del:set", "missing"}
	for i := 1; i < 20; i += 2 {
		keys = append(keys, "del:"+strconv.Itoa(i))
	}
	must(t, s.Del(bg, keys...))
	for i := range 20 {
		if kept := i%2 == 0 && i != 0; kept {
			wantGet(t, s, "del:"+strconv.Itoa(i), "v", true)
		} else {
			wantGet(t, s, "del:"+strconv.Itoa(i), "", false)
		}
	}
	if _, ok, _ := s.TTL(bg, "del:set"); ok {
		t.Fatal("set survived Del")
	}
}

func testIncr(t *testing.T, h harness) {
	s := h.store
	for want := int64(1); want <= 3; want++ {
		n, err := s.Incr(bg, "n", 0)
		must(t, err)
		if n != want {
			t.Fatalf("Incr = %d, want %d", n, want)
		}
	}
	wantGet(t, s, "n", "3", true)
	wantTTL(t, h, "n", 0)
	must(t, s.Set(bg, "big", "41", 0))
	if n, err := s.Incr(bg, "big", 0); err != nil || n != 42 {
		t.Fatalf("Incr on 41 = %d, %v", n, err)
	}
	must(t, s.Set(bg, "neg", "-5", 0))
	if n, err := s.Incr(bg, "neg", 0); err != nil || n != -4 {
		t.Fatalf("Incr on -5 = %d, %v", n, err)
	}
	for _, bad := range []string{"abc", "", "1.5", " 1", "9223372036854775807"} {
		must(t, s.Set(bg, "bad", bad, 0))
		if _, err := s.Incr(bg, "bad", 0); !errors.Is(err, state.ErrNotInteger) {
			t.Errorf("Incr on %q: err = %v, want ErrNotInteger", bad, err)
		}
		wantGet(t, s, "bad", bad, true)
	}
}

func testIncrTTL(t *testing.T, h harness) {
	s := h.store
	if _, err := s.Incr(bg, "c", 400*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Later hits must not move the window.
	if _, err := s.Incr(bg, "c", time.Hour); err != nil {
		t.Fatal(err)
	}
	wantTTL(t, h, "c", 400*time.Millisecond)
	// An existing key without expiry keeps having none.
	must(t, s.Set(bg, "p", "7", 0))
	if n, err := s.Incr(bg, "p", time.Hour); err != nil || n != 8 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	wantTTL(t, h, "p", 0)
	h.advance(600 * time.Millisecond)
	n, err := s.Incr(bg, "c", time.Hour)
	must(t, err)
	if n != 1 {
		t.Fatalf("Incr after the window expired = %d, want 1", n)
	}
	wantTTL(t, h, "c", time.Hour)
}

func testIncrConcurrent(t *testing.T, h harness) {
	s := h.store
	const n = 50
	seen := make([]atomic.Bool, n+1)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			v, err := s.Incr(bg, "ctr", time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if v < 1 || v > n || seen[v].Swap(true) {
				t.Errorf("Incr returned %d twice or out of range", v)
			}
		})
	}
	wg.Wait()
	wantGet(t, s, "ctr", strconv.Itoa(n), true)
}

func testCompareAndSwap(t *testing.T, h harness) {
	s := h.store
	ok, err := s.CompareAndSwap(bg, "k", "a", "b", 0)
	must(t, err)
	if ok {
		t.Fatal("CAS on a missing key = true")
	}
	wantGet(t, s, "k", "", false)
	must(t, s.Set(bg, "k", "a", 0))
	if ok, err := s.CompareAndSwap(bg, "k", "x", "b", 0); err != nil || ok {
		t.Fatalf("CAS with a wrong old value = %v, %v", ok, err)
	}
	wantGet(t, s, "k", "a", true)
	if ok, err := s.CompareAndSwap(bg, "k", "a", "b", time.Hour); err != nil || !ok {
		t.Fatalf("CAS = %v, %v", ok, err)
	}
	wantGet(t, s, "k", "b", true)
	wantTTL(t, h, "k", time.Hour)
	if ok, err := s.CompareAndSwap(bg, "k", "b", "c", 0); err != nil || !ok {
		t.Fatalf("CAS = %v, %v", ok, err)
	}
	wantTTL(t, h, "k", 0)
	must(t, s.Set(bg, "e", "", 0))
	if ok, err := s.CompareAndSwap(bg, "e", "", "x", 0); err != nil || !ok {
		t.Fatalf("CAS from the empty string = %v, %v", ok, err)
	}
	// A missing key never equals the empty string.
	if ok, err := s.CompareAndSwap(bg, "missing", "", "x", 0); err != nil || ok {
		t.Fatalf("CAS on a missing key with old \"\" = %v, %v", ok, err)
	}
}

// testCompareAndSwapConcurrent is refresh rotation: of many replicas presenting the same token,
// exactly one rotates it.
func testCompareAndSwapConcurrent(t *testing.T, h harness) {
	s := h.store
	must(t, s.Set(bg, "family", "gen0", time.Minute))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ok, err := s.CompareAndSwap(bg, "family", "gen0", "gen1:"+strconv.Itoa(i), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d CAS winners, want 1", n)
	}
}

func testCompareAndDelete(t *testing.T, h harness) {
	s := h.store
	if ok, err := s.CompareAndDelete(bg, "k", "a"); err != nil || ok {
		t.Fatalf("CAD on a missing key = %v, %v", ok, err)
	}
	must(t, s.Set(bg, "k", "a", 0))
	if ok, err := s.CompareAndDelete(bg, "k", "b"); err != nil || ok {
		t.Fatalf("CAD with a wrong value = %v, %v", ok, err)
	}
	wantGet(t, s, "k", "a", true)
	if ok, err := s.CompareAndDelete(bg, "k", "a"); err != nil || !ok {
		t.Fatalf("CAD = %v, %v", ok, err)
	}
	wantGet(t, s, "k", "", false)
}

func testTTL(t *testing.T, h harness) {
	s := h.store
	if d, ok, err := s.TTL(bg, "missing"); err != nil || ok || d != 0 {
		t.Fatalf("TTL of a missing key = %s, %v, %v", d, ok, err)
	}
	must(t, s.Set(bg, "forever", "v", 0))
	wantTTL(t, h, "forever", 0)
	must(t, s.Set(bg, "day", "v", 24*time.Hour))
	wantTTL(t, h, "day", 24*time.Hour)
	// Sub-millisecond TTLs round up to 1 ms rather than meaning "no expiry".
	must(t, s.Set(bg, "tiny", "v", time.Microsecond))
	h.advance(20 * time.Millisecond)
	wantGet(t, s, "tiny", "", false)
}

func sorted(v []string) []string {
	v = slices.Clone(v)
	slices.Sort(v)
	return v
}

func wantMembers(t *testing.T, s state.Store, key string, want ...string) {
	t.Helper()
	got, err := s.SMembers(bg, key)
	must(t, err)
	if got == nil {
		t.Fatalf("SMembers(%q) = nil, want a non-nil slice", key)
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("SMembers(%q) = %v, want %v", key, got, want)
	}
}

func testSets(t *testing.T, h harness) {
	s := h.store
	wantMembers(t, s, "fam")
	must(t, s.SAdd(bg, "fam", "a", time.Hour))
	must(t, s.SAdd(bg, "fam", "b", time.Hour))
	must(t, s.SAdd(bg, "fam", "a", time.Hour))
	must(t, s.SAdd(bg, "fam", "", time.Hour))
	wantMembers(t, s, "fam", "a", "b", "")
	must(t, s.SRem(bg, "fam"))
	must(t, s.SRem(bg, "fam", "a", "missing"))
	wantMembers(t, s, "fam", "b", "")
	must(t, s.SRem(bg, "missing", "x"))
	must(t, s.SRem(bg, "fam", "b", ""))
	wantMembers(t, s, "fam")
	if _, ok, _ := s.TTL(bg, "fam"); ok {
		t.Fatal("an emptied set still exists")
	}
	// A recreated set starts with the new TTL, not the old one.
	must(t, s.SAdd(bg, "fam", "c", 400*time.Millisecond))
	wantTTL(t, h, "fam", 400*time.Millisecond)
	h.advance(600 * time.Millisecond)
	wantMembers(t, s, "fam")
}

func testSAddTTL(t *testing.T, h harness) {
	s := h.store
	must(t, s.SAdd(bg, "s", "a", 10*time.Minute))
	wantTTL(t, h, "s", 10*time.Minute)
	must(t, s.SAdd(bg, "s", "b", time.Minute)) // shorter: ignored
	wantTTL(t, h, "s", 10*time.Minute)
	must(t, s.SAdd(bg, "s", "c", time.Hour)) // longer: extends
	wantTTL(t, h, "s", time.Hour)
	must(t, s.SAdd(bg, "s", "d", 0)) // no expiry is the longest
	wantTTL(t, h, "s", 0)
	must(t, s.SAdd(bg, "s", "e", time.Minute))
	wantTTL(t, h, "s", 0)
	wantMembers(t, s, "s", "a", "b", "c", "d", "e")
	must(t, s.SAdd(bg, "p", "a", 0))
	wantTTL(t, h, "p", 0)
}

func testWrongType(t *testing.T, h harness) {
	s := h.store
	must(t, s.Set(bg, "str", "1", 0))
	must(t, s.SAdd(bg, "set", "m", 0))
	_, _, getErr := s.Get(bg, "set")
	_, mgetErr := s.MGet(bg, "str", "set")
	_, _, getDelErr := s.GetDel(bg, "set")
	_, smembersErr := s.SMembers(bg, "str")
	for name, err := range map[string]error{
		"Get":      getErr,
		"MGet":     mgetErr,
		"GetDel":   getDelErr,
		"Incr":     second(s.Incr(bg, "set", 0)),
		"CAS":      second(s.CompareAndSwap(bg, "set", "m", "x", 0)),
		"CAD":      second(s.CompareAndDelete(bg, "set", "m")),
		"SAdd":     s.SAdd(bg, "str", "m", 0),
		"SMembers": smembersErr,
		"SRem":     s.SRem(bg, "str", "1"),
	} {
		if !errors.Is(err, state.ErrWrongType) {
			t.Errorf("%s on the wrong kind: err = %v, want ErrWrongType", name, err)
		}
	}
	wantMembers(t, s, "set", "m")
	wantGet(t, s, "str", "1", true)
	// SetNX sees any existing key; Set and Del work on either kind.
	if ok, err := s.SetNX(bg, "set", "x", 0); err != nil || ok {
		t.Fatalf("SetNX over a set = %v, %v", ok, err)
	}
	must(t, s.Set(bg, "set", "now a string", 0))
	wantGet(t, s, "set", "now a string", true)
	must(t, s.SAdd(bg, "set2", "m", 0))
	must(t, s.Del(bg, "set2"))
	wantMembers(t, s, "set2")
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription channel closed early")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return ""
}

func wantClosed(t *testing.T, ch <-chan string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("subscription channel not closed within 5s")
		}
	}
}

func testPubSub(t *testing.T, h harness) {
	s := h.store
	a, unsubA, err := s.Subscribe(bg, "revocations")
	must(t, err)
	b, unsubB, err := s.Subscribe(bg, "revocations")
	must(t, err)
	other, unsubOther, err := s.Subscribe(bg, "other")
	must(t, err)
	defer unsubOther()

	// Nobody reads while publishing: a slow subscriber must not block or lose messages.
	for i := range 20 {
		must(t, s.Publish(bg, "revocations", "jti-"+strconv.Itoa(i)))
	}
	for _, ch := range []<-chan string{a, b} {
		for i := range 20 {
			if got, want := recv(t, ch), "jti-"+strconv.Itoa(i); got != want {
				t.Fatalf("got %q, want %q (messages out of order?)", got, want)
			}
		}
	}
	must(t, s.Publish(bg, "other", "x"))
	if got := recv(t, other); got != "x" {
		t.Fatalf("other channel got %q", got)
	}

	unsubA()
	unsubA() // idempotent
	wantClosed(t, a)
	must(t, s.Publish(bg, "revocations", "after"))
	if got := recv(t, b); got != "after" {
		t.Fatalf("remaining subscriber got %q", got)
	}
	unsubB()
	wantClosed(t, b)
	must(t, s.Publish(bg, "nobody-listens", "x"))
}

func testSubscribeContext(t *testing.T, h harness) {
	s := h.store
	ctx, cancel := context.WithCancel(bg)
	ch, unsub, err := s.Subscribe(ctx, "c")
	must(t, err)
	must(t, s.Publish(bg, "c", "1"))
	if got := recv(t, ch); got != "1" {
		t.Fatalf("got %q", got)
	}
	cancel()
	wantClosed(t, ch)
	unsub()
}

func testCanceledContext(t *testing.T, h harness) {
	s := h.store
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, _, getErr := s.Get(ctx, "k")
	_, _, subErr := s.Subscribe(ctx, "c")
	for name, err := range map[string]error{
		"Get":       getErr,
		"Set":       s.Set(ctx, "k", "v", 0),
		"Incr":      second(s.Incr(ctx, "k", 0)),
		"Subscribe": subErr,
		"Ping":      s.Ping(ctx),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", name, err)
		}
	}
	wantGet(t, s, "k", "", false)
}

func testClose(t *testing.T, h harness) {
	s := h.store
	must(t, s.Ping(bg))
	ch, unsub, err := s.Subscribe(bg, "c")
	must(t, err)
	must(t, s.Close())
	must(t, s.Close())
	wantClosed(t, ch)
	unsub()
	_, _, getErr := s.Get(bg, "k")
	_, _, subErr := s.Subscribe(bg, "c")
	for name, err := range map[string]error{
		"Ping":      s.Ping(bg),
		"Get":       getErr,
		"Set":       s.Set(bg, "k", "v", 0),
		"Publish":   s.Publish(bg, "c", "m"),
		"Subscribe": subErr,
	} {
		if !errors.Is(err, state.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}
