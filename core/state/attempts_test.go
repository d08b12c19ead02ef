package state_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state"
)

// The attempt counter's part of the conformance suite (runSuite lists these).

func reserve(t *testing.T, s state.Store, key string, p state.AttemptPolicy) state.Attempt {
	t.Helper()
	a, wait, err := s.ReserveAttempt(bg, key, p)
	must(t, err)
	if wait != 0 {
		t.Fatalf("ReserveAttempt(%q) refused, lock left %s", key, wait)
	}
	return a
}

func wantRefused(t *testing.T, h harness, key string, p state.AttemptPolicy, lock time.Duration) {
	t.Helper()
	a, wait, err := h.store.ReserveAttempt(bg, key, p)
	must(t, err)
	if a.N != 0 || a.Locked != 0 || wait > lock || wait < lock-h.slack-50*time.Millisecond {
		t.Fatalf("ReserveAttempt(%q) = %+v, wait %s; want refused with about %s left", key, a, wait, lock)
	}
}

// testAttemptSequence: p.After attempts, then a lock of p.Base; one attempt after each lock, each
// locking twice as long up to p.Max; Del starts over.
func testAttemptSequence(t *testing.T, h harness) {
	s := h.store
	base := 400 * time.Millisecond
	p := state.AttemptPolicy{After: 3, Base: base, Max: 2 * base, Memory: time.Hour}
	for i := int64(1); i <= 2; i++ {
		if a := reserve(t, s, "k", p); a.N != i || a.Locked != 0 {
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	wantTTL(t, h, "k", time.Hour) // from the first attempt
	if a := reserve(t, s, "k", p); a.N != 3 || a.Locked != base {
		t.Fatalf("attempt 3: %+v, want the lock of p.Base", a)
	}
	wantRefused(t, h, "k", p, base)
	h.advance(base)
	if a := reserve(t, s, "k", p); a.N != 4 || a.Locked != 2*base {
		t.Fatalf("first attempt after the lock: %+v, want a lock twice as long", a)
	}
	wantRefused(t, h, "k", p, 2*base)
	h.advance(2 * base)
	if a := reserve(t, s, "k", p); a.N != 5 || a.Locked != 2*base {
		t.Fatalf("attempt 5: %+v, want the lock capped at p.Max", a)
	}
	must(t, s.Del(bg, "k"))
	if a := reserve(t, s, "k", p); a.N != 1 || a.Locked != 0 {
		t.Fatalf("after Del: %+v", a)
	}
}

// testAttemptRelease: a released attempt is uncounted and lifts the lock it started, not a lock
// a later attempt started; a release from before a Del changes nothing.
func testAttemptRelease(t *testing.T, h harness) {
	s := h.store
	p := state.AttemptPolicy{After: 3, Base: time.Hour, Max: time.Hour, Memory: time.Hour}
	a1, a2 := reserve(t, s, "k", p), reserve(t, s, "k", p)
	must(t, s.ReleaseAttempt(bg, "k", a1))
	if a := reserve(t, s, "k", p); a.N != 2 || a.Locked != 0 {
		t.Fatalf("after releasing attempt 1 of 2: %+v", a)
	}
	a3 := reserve(t, s, "k", p)
	if a3.N != 3 || a3.Locked != time.Hour {
		t.Fatalf("attempt 3: %+v", a3)
	}
	must(t, s.ReleaseAttempt(bg, "k", a2)) // attempt 3 started the lock: it stays
	wantRefused(t, h, "k", p, time.Hour)
	must(t, s.ReleaseAttempt(bg, "k", a3)) // lifts it
	if a := reserve(t, s, "k", p); a.N != 2 {
		t.Fatalf("after releasing two of three: %+v", a)
	}
	wantTTL(t, h, "k", time.Hour)

	must(t, s.Del(bg, "k"))
	fresh := reserve(t, s, "k", p)
	must(t, s.ReleaseAttempt(bg, "k", a1))
	must(t, s.ReleaseAttempt(bg, "k", state.Attempt{}))
	if a := reserve(t, s, "k", p); a.N != fresh.N+1 {
		t.Fatalf("a release from before Del, or of the zero Attempt, changed the new counter: %+v", a)
	}
	must(t, s.ReleaseAttempt(bg, "missing", fresh))
	wantGet(t, s, "missing", "", false)
}

// testAttemptSettle: a lock is pending until the attempt that started it is settled as a
// failure; releasing that attempt lifts it instead. Settling any other attempt, or after a Del,
// changes nothing. A counter written before settling existed reads as settled.
func testAttemptSettle(t *testing.T, h harness) {
	s := h.store
	p := state.AttemptPolicy{After: 2, Base: time.Hour, Max: time.Hour, Memory: time.Hour}
	pending := func(want bool) {
		t.Helper()
		a, wait, err := s.ReserveAttempt(bg, "k", p)
		must(t, err)
		if wait == 0 || a.Pending != want {
			t.Fatalf("reserve on a lock: %+v, wait %s; want refused with Pending %v", a, wait, want)
		}
	}
	a1 := reserve(t, s, "k", p)
	a2 := reserve(t, s, "k", p)
	pending(true)
	must(t, s.SettleAttempt(bg, "k", a1)) // started no lock
	pending(true)
	must(t, s.SettleAttempt(bg, "k", a2))
	pending(false)
	wantTTL(t, h, "k", time.Hour)

	must(t, s.Del(bg, "k"))
	reserve(t, s, "k", p)
	b2 := reserve(t, s, "k", p)
	must(t, s.SettleAttempt(bg, "k", a2)) // from before the Del
	pending(true)
	must(t, s.ReleaseAttempt(bg, "k", b2)) // right after all: the lock goes
	if a := reserve(t, s, "k", p); a.N != 2 || a.Locked != time.Hour {
		t.Fatalf("after releasing the lock's attempt: %+v", a)
	}
	must(t, s.SettleAttempt(bg, "missing", b2))
	wantGet(t, s, "missing", "", false)

	until := time.Now().Add(time.Hour).UnixMilli()
	must(t, s.Set(bg, "old", "0a1b:2:2:"+strconv.FormatInt(until, 10), time.Hour))
	if a, wait, err := s.ReserveAttempt(bg, "old", p); err != nil || wait == 0 || a.Pending {
		t.Fatalf("four-field counter: %+v, wait %s, %v; want a settled lock", a, wait, err)
	}
}

// testAttemptExpiry: attempts are forgotten p.Memory after the first, but a lock in force is
// kept until it ends. (Redis may still show a key for a moment after its expiry, hence the slack.)
func testAttemptExpiry(t *testing.T, h harness) {
	s := h.store
	lock := time.Second
	p := state.AttemptPolicy{After: 2, Base: lock, Max: lock, Memory: 400 * time.Millisecond}
	reserve(t, s, "k", p)
	h.advance(p.Memory + h.slack)
	if a := reserve(t, s, "k", p); a.N != 1 {
		t.Fatalf("after p.Memory: %+v, want a new count", a)
	}
	if a := reserve(t, s, "k", p); a.Locked != lock {
		t.Fatalf("attempt 2: %+v", a)
	}
	wantTTL(t, h, "k", lock)
	h.advance(p.Memory + h.slack)
	wantRefused(t, h, "k", p, lock-p.Memory-h.slack)
	h.advance(lock - p.Memory)
	if a := reserve(t, s, "k", p); a.N != 1 {
		t.Fatalf("after the lock: %+v, want a new count", a)
	}
}

// testAttemptConcurrent: of many simultaneous attempts exactly p.After are counted, one of them
// starting the lock, and the rest refused.
func testAttemptConcurrent(t *testing.T, h harness) {
	p := state.AttemptPolicy{After: 5, Base: time.Hour, Max: time.Hour, Memory: time.Hour}
	var (
		mu      sync.Mutex
		counted = map[int64]bool{}
		locks   int
		refused int
		wg      sync.WaitGroup
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, wait, err := h.store.ReserveAttempt(bg, "k", p)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case wait > 0:
				refused++
			default:
				counted[a.N] = true
				if a.Locked > 0 {
					locks++
				}
			}
		}()
	}
	wg.Wait()
	if len(counted) != 5 || !counted[1] || !counted[5] || locks != 1 || refused != 45 {
		t.Fatalf("counted %v, %d locks started, %d refused; want 1-5, 1, 45", counted, locks, refused)
	}
}

func testAttemptErrors(t *testing.T, h harness) {
	s := h.store
	p := state.AttemptPolicy{After: 1, Base: time.Second, Max: time.Second, Memory: time.Hour}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	must(t, s.Set(bg, "str", "x", 0))
	must(t, s.SAdd(bg, "set", "m", 0))
	for name, err := range map[string]error{
		"empty key":      third(s.ReserveAttempt(bg, "", p)),
		"release empty":  s.ReleaseAttempt(bg, "", state.Attempt{}),
		"After 0":        third(s.ReserveAttempt(bg, "k", state.AttemptPolicy{Base: time.Second, Max: time.Second, Memory: time.Hour})),
		"Max < Base":     third(s.ReserveAttempt(bg, "k", state.AttemptPolicy{After: 1, Base: time.Second, Max: time.Millisecond, Memory: time.Hour})),
		"no Memory":      third(s.ReserveAttempt(bg, "k", state.AttemptPolicy{After: 1, Base: time.Second, Max: time.Second})),
		"not a counter":  third(s.ReserveAttempt(bg, "str", p)),
		"a set":          third(s.ReserveAttempt(bg, "set", p)),
		"canceled":       third(s.ReserveAttempt(ctx, "k", p)),
		"release on set": s.ReleaseAttempt(bg, "set", reserve(t, s, "other", p)),
	} {
		want := map[string]error{
			"empty key": state.ErrEmptyKey, "release empty": state.ErrEmptyKey,
			"After 0": state.ErrBadPolicy, "Max < Base": state.ErrBadPolicy, "no Memory": state.ErrBadPolicy,
			"not a counter": state.ErrNotInteger, "a set": state.ErrWrongType, "release on set": state.ErrWrongType,
			"canceled": context.Canceled,
		}[name]
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
	}
	wantGet(t, s, "k", "", false)
	wantGet(t, s, "str", "x", true)
	must(t, s.Close())
	if err := third(s.ReserveAttempt(bg, "k", p)); !errors.Is(err, state.ErrClosed) {
		t.Errorf("after Close: err = %v", err)
	}
	if err := s.ReleaseAttempt(bg, "k", state.Attempt{}); !errors.Is(err, state.ErrClosed) {
		t.Errorf("release after Close: err = %v", err)
	}
}
