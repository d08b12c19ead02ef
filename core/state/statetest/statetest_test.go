package statetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

func TestRedisURL(t *testing.T) {
	t.Setenv(statetest.EnvRedisURL, "")
	if got := statetest.RedisURL(); got != "redis://127.0.0.1:6379/0" {
		t.Fatalf("default = %q", got)
	}
	t.Setenv(statetest.EnvRedisURL, " redis://example:1/2 ")
	if got := statetest.RedisURL(); got != "redis://example:1/2" {
		t.Fatalf("from env = %q", got)
	}
}

func TestPrefixCleansUp(t *testing.T) {
	ctx := context.Background()
	c := statetest.Client(t)
	var prefix string
	t.Run("inner", func(t *testing.T) {
		prefix = statetest.Prefix(t, c)
		if !strings.HasPrefix(prefix, "test:") || !strings.HasSuffix(prefix, ":") {
			t.Fatalf("prefix %q", prefix)
		}
		if other := statetest.Prefix(t, c); other == prefix {
			t.Fatal("two calls returned the same prefix")
		}
		// More than one SCAN page, strings and sets.
		pipe := c.Pipeline()
		for i := range 1200 {
			pipe.Set(ctx, fmt.Sprintf("%sk:%d", prefix, i), "v", time.Minute)
		}
		pipe.SAdd(ctx, prefix+"set", "m")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	})
	// A key outside the prefix that merely starts alike must survive.
	outside := strings.TrimSuffix(prefix, ":") + "x"
	if err := c.Set(ctx, outside, "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	defer c.Del(ctx, outside)
	keys, _, err := c.Scan(ctx, 0, prefix+"*", 10000).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if n != 0 || len(keys) != 0 {
		t.Fatalf("%d keys left under %s", n, prefix)
	}
	if v, err := c.Get(ctx, outside).Result(); err != nil || v != "v" {
		t.Fatalf("cleanup removed %s: %v", outside, err)
	}
}

// fatalTB records Fatalf instead of ending the test, to check Client's message.
type fatalTB struct {
	testing.TB
	msg string
}

type fatal struct{}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatal{})
}

func TestClientFailsLoudly(t *testing.T) {
	t.Setenv(statetest.EnvRedisURL, "redis://:hunter2@127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1&dialer_retries=1")
	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatal); !ok {
					panic(r)
				}
			}
		}()
		statetest.Client(f)
	}()
	if f.msg == "" {
		t.Fatal("Client did not fail for an unreachable server")
	}
	for _, want := range []string{"127.0.0.1:1", statetest.EnvRedisURL} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("message %q lacks %q", f.msg, want)
		}
	}
	if strings.Contains(f.msg, "hunter2") {
		t.Errorf("message leaks the password: %q", f.msg)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := statetest.NewClock(start)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("Now = %s", got)
	}
	if statetest.NewClock(time.Time{}).Now().IsZero() {
		t.Fatal("zero start kept")
	}
}
