package state

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// reply is an error reply of the Redis server, as go-redis returns one.
type reply string

func (r reply) Error() string { return string(r) }
func (reply) RedisError()     {}

func TestRedisUnavailable(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want bool
	}{
		{context.Background(), refused, true},
		{context.Background(), fmt.Errorf("wrapped: %w", refused), true},
		{context.Background(), context.DeadlineExceeded, true},
		{context.Background(), redis.ErrPoolTimeout, true},
		{context.Background(), reply("LOADING Redis is loading the dataset in memory"), true},
		{context.Background(), reply("READONLY You can't write against a read only replica."), true},
		{context.Background(), reply("CLUSTERDOWN The cluster is down"), true},
		{context.Background(), reply("OOM command not allowed when used memory > 'maxmemory'."), true},
		{context.Background(), reply("BUSY Redis is busy running a script."), true},
		{context.Background(), reply("ERR max number of clients reached"), true},
		{context.Background(), reply("WRONGPASS invalid username-password pair"), true},
		{context.Background(), reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{context.Background(), reply("NOSCRIPT No matching script."), false},
		{context.Background(), reply("BUSYKEY Target key name already exists."), false},
		{context.Background(), reply("ERR value is not an integer or out of range"), false},
		{context.Background(), redis.Nil, false},
		{context.Background(), redis.ErrClosed, false},
		{context.Background(), context.Canceled, false},
		// A driver that reports the interruption its own way is still the caller's doing.
		{cancelled, refused, false},
	} {
		if got := redisUnavailable(c.ctx, c.err); got != c.want {
			t.Errorf("redisUnavailable(ctx cancelled %v, %v) = %v, want %v", c.ctx.Err() != nil, c.err, got, c.want)
		}
	}
	if !errors.Is(markRedis(refused), refused) {
		t.Error("a marked error no longer unwraps to the driver's")
	}
}
