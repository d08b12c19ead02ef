package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	for in, want := range map[string]Rule{
		"10/minute":      {10, time.Minute},
		"10/min":         {10, time.Minute},
		"10/m":           {10, time.Minute},
		"600/minute":     {600, time.Minute},
		"5/hour":         {5, time.Hour},
		"5/h":            {5, time.Hour},
		"30/second":      {30, time.Second},
		"30/s":           {30, time.Second},
		"3/day":          {3, 24 * time.Hour},
		"3/d":            {3, 24 * time.Hour},
		"10 per minute":  {10, time.Minute},
		" 10 / Minutes ": {10, time.Minute},
		"10 PER HOUR":    {10, time.Hour},
		"100/5m":         {100, 5 * time.Minute},
		"1/1h30m":        {1, 90 * time.Minute},
		"1000000/second": {1000000, time.Second},
	} {
		got, err := ParseRule(in)
		if err != nil || got != want {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "10", "minute", "/minute", "0/minute", "-1/minute", "1.5/minute", "ten/minute",
		"10/fortnight", "10/", "10/0s", "10/-1m", "10//minute", "10 per", "10/minute/hour",
		"2000000000/ns", "99999999999999999999/minute",
	} {
		if r, err := ParseRule(in); err == nil {
			t.Errorf("ParseRule(%q) = %+v, want an error", in, r)
		}
	}
}

func TestRuleStringRoundTrip(t *testing.T) {
	for _, r := range []Rule{{10, time.Minute}, {5, time.Hour}, {30, time.Second}, {3, 24 * time.Hour}, {100, 5 * time.Minute}, {7, 1500 * time.Millisecond}} {
		s := r.String()
		back, err := ParseRule(s)
		if err != nil || back != r {
			t.Errorf("%+v -> %q -> %+v, %v", r, s, back, err)
		}
	}
	if got := (Rule{10, time.Minute}).String(); got != "10/minute" {
		t.Errorf("String = %q", got)
	}
	var r Rule
	if err := r.UnmarshalText([]byte("20/minute")); err != nil || r != (Rule{20, time.Minute}) {
		t.Errorf("UnmarshalText = %+v, %v", r, err)
	}
	if err := r.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText accepted nonsense")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{
		0: 1, time.Nanosecond: 1, time.Second: 1, time.Second + 1: 2, 12 * time.Second: 12, 11500 * time.Millisecond: 12,
	} {
		if got := (Result{RetryAfter: d}).RetryAfterSeconds(); got != want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestMemoryIsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := NewMemoryWithClock(func() time.Time { return now })
	rule := Rule{Limit: 5, Period: time.Second}
	const batch = 100_000
	for i := range batch {
		if _, err := m.Allow(context.Background(), "old:"+strconv.Itoa(i), rule); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Second) // every "old" entry is now equivalent to a fresh key
	for i := range batch {
		if _, err := m.Allow(context.Background(), "new:"+strconv.Itoa(i), rule); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.size(); n > batch+batch/4 {
		t.Fatalf("%d entries held for %d live keys: expired entries are not dropped", n, batch)
	}
	// Entries that expired were dropped, not forgotten while live: a live key keeps its state.
	for range 4 {
		_, _ = m.Allow(context.Background(), "new:1", rule)
	}
	if res, _ := m.Allow(context.Background(), "new:1", rule); res.Allowed {
		t.Fatal("live key lost its state during a sweep")
	}
}
