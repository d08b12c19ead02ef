package state

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/cashlessmedia/cashless-auth/core/outage"
)

// WatchOutages makes c mark each command or pipeline that failed because Redis could not serve
// it as an *outage.Error (so the HTTP layer answers 503 and logs it with the dependency named)
// and tell failed about it, once per call: go-redis's retries happen inside the hook. The
// service sends every Redis call through one client (this store, both rate limiters, the
// revocation caches' heartbeats and confirmations), so this is the one place a Redis outage is
// counted, in requests and in background work alike.
func WatchOutages(c redis.UniversalClient, failed func()) {
	c.AddHook(outageHook{failed: failed})
}

type outageHook struct{ failed func() }

func (outageHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h outageHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil || connSetup[cmd.Name()] || !redisUnavailable(ctx, err) {
			return err
		}
		err = markRedis(err)
		cmd.SetErr(err)
		h.failed()
		return err
	}
}

func (h outageHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		failed := false
		for _, cmd := range cmds {
			if e := cmd.Err(); e != nil && !connSetup[cmd.Name()] && redisUnavailable(ctx, e) {
				cmd.SetErr(markRedis(e))
				failed = true
			}
		}
		if err != nil && redisUnavailable(ctx, err) {
			err = markRedis(err)
			failed = true
		}
		if failed {
			h.failed()
		}
		return err
	}
}

// connSetup names the commands go-redis sends, through the same hooks, to set up a connection.
// Their failure fails the call that wanted the connection, which is counted; counting both would
// count one failure twice.
var connSetup = map[string]bool{"hello": true, "auth": true, "select": true, "client": true, "readonly": true}

func markRedis(err error) error {
	if _, ok := outage.Of(err); ok {
		return err
	}
	return &outage.Error{Dependency: outage.Redis, Err: err}
}

// redisUnavailable reports whether err means Redis could not serve the call: unreachable,
// slower than the client's timeouts, no free connection in the pool before the pool timeout,
// or a reply saying the server cannot serve now (loading, read-only replica after a failover,
// cluster down, out of memory, credentials refused). A missing key, any other error reply (a
// wrong type, a script to load) and a caller that gave up are not outages; neither is the
// client closed by the service's own shutdown.
func redisUnavailable(ctx context.Context, err error) bool {
	switch {
	case errors.Is(err, redis.Nil), errors.Is(err, redis.ErrClosed), outage.CallerGone(ctx, err):
		return false
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if re, ok := errors.AsType[redis.Error](err); ok {
		return unavailableReply(re.Error())
	}
	// Pool timeouts, context.DeadlineExceeded, EOF on a dropped connection.
	return true
}

// unavailableReplies start the error replies of a server that cannot serve now (or not us).
var unavailableReplies = []string{
	"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY ", "NOREPLICAS", "OOM",
	"NOAUTH", "WRONGPASS", "NOPERM", "ERR max number of clients",
}

func unavailableReply(msg string) bool {
	for _, p := range unavailableReplies {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
