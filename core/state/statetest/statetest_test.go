package statetest_test

import (
	"context"
	"fmt"
	"net"
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

// fatalTB records Fatalf and Skip instead of ending the test, to check Client's messages.
type fatalTB struct {
	testing.TB
	msg     string // Fatalf's
	skipped string // Skip's
}

type fatal struct{}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatal{})
}

func (f *fatalTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(fatal{})
}

// call runs Client(f), stopping where Client's Fatalf or Skip would end the test.
func (f *fatalTB) call() {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatal); !ok {
				panic(r)
			}
		}
	}()
	statetest.Client(f)
}

func TestClientFailsLoudly(t *testing.T) {
	statetest.SetShort(t, false) // the full run: a missing server is a failure, never a skip
	t.Setenv(statetest.EnvRedisURL, "redis://:hunter2@127.0.0.1:1/0?dial_timeout=200ms&max_retries=-1&dialer_retries=1")
	f := &fatalTB{TB: t}
	f.call()
	if f.skipped != "" {
		t.Fatalf("Client skipped without -short: %q", f.skipped)
	}
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

// Under -short Client skips, naming Redis and `make test`, without opening a connection.
func TestClientSkipsUnderShort(t *testing.T) {
	statetest.SetShort(t, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv(statetest.EnvRedisURL, "redis://"+ln.Addr().String()+"/0")
	f := &fatalTB{TB: t}
	f.call()
	if f.msg != "" {
		t.Fatalf("Client failed under -short: %q", f.msg)
	}
	if f.skipped == "" {
		t.Fatal("Client did not skip under -short")
	}
	for _, want := range []string{"-short", "Redis", statetest.EnvRedisURL, "make test"} {
		if !strings.Contains(f.skipped, want) {
			t.Errorf("skip message %q lacks %q", f.skipped, want)
		}
	}
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Fatal("Client connected to Redis under -short")
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
