package state_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

func TestRedisPrefixIsolation(t *testing.T) {
	c := statetest.Client(t)
	pa, pb := statetest.Prefix(t, c), statetest.Prefix(t, c)
	a, b := state.NewRedis(c, pa), state.NewRedis(c, pb)
	defer a.Close()
	defer b.Close()

	must(t, a.Set(bg, "k", "from-a", 0))
	must(t, a.SAdd(bg, "s", "m", 0))
	wantGet(t, b, "k", "", false)
	if v, err := c.Get(bg, pa+"k").Result(); err != nil || v != "from-a" {
		t.Fatalf("raw GET %sk = %q, %v", pa, v, err)
	}
	for _, k := range []string{"k", "s"} {
		if n, err := c.Exists(bg, k).Result(); err != nil || n != 0 {
			t.Fatalf("unprefixed key %q exists: %d, %v", k, n, err)
		}
	}

	chB, unsubB, err := b.Subscribe(bg, "revocations")
	must(t, err)
	defer unsubB()
	chA, unsubA, err := a.Subscribe(bg, "revocations")
	must(t, err)
	defer unsubA()
	must(t, a.Publish(bg, "revocations", "for-a"))
	must(t, b.Publish(bg, "revocations", "for-b"))
	if got := recv(t, chA); got != "for-a" {
		t.Fatalf("a got %q", got)
	}
	if got := recv(t, chB); got != "for-b" {
		t.Fatalf("b got %q (prefix not applied to channels?)", got)
	}
}

// connInit names what go-redis sends, through the same hooks, when it opens a connection.
var connInit = map[string]bool{"hello": true, "client": true, "auth": true, "select": true, "ping": true}

// roundTrips counts what go-redis sends: single commands and pipelines.
type roundTrips struct{ single, pipelines atomic.Int32 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connInit[cmd.Name()] {
			r.single.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !connInit[cmds[0].Name()] {
			r.pipelines.Add(1)
		}
		return next(ctx, cmds)
	}
}

func TestRedisMGetIsOneRoundTrip(t *testing.T) {
	c := statetest.Client(t) // its own client, so the hook sees only this test
	s := state.NewRedis(c, statetest.Prefix(t, c))
	defer s.Close()
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = "k" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		must(t, s.Set(bg, keys[i], "v", 0))
	}
	rt := &roundTrips{}
	c.AddHook(rt)
	got, err := s.MGet(bg, keys...)
	must(t, err)
	if len(got) != 50 || got[49] == nil {
		t.Fatalf("MGet = %v", got)
	}
	// On Cluster go-redis splits one pipeline per node below this hook; here it is one call.
	if s, p := rt.single.Load(), rt.pipelines.Load(); s != 0 || p != 1 {
		t.Fatalf("MGet sent %d commands and %d pipelines, want 0 and 1", s, p)
	}
}

func TestRedisCloseLeavesClientOpen(t *testing.T) {
	c := statetest.Client(t)
	s := state.NewRedis(c, statetest.Prefix(t, c))
	must(t, s.Close())
	if err := c.Ping(bg).Err(); err != nil {
		t.Fatalf("client closed by Store.Close: %v", err)
	}
}
