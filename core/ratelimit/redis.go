package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis is the Limiter shared by all replicas: redis_rate's GCRA runs as a single-key Lua script
// on the Redis server's clock, so it is atomic across replicas, immune to replica clock skew and
// valid on Cluster.
type Redis struct {
	lim *redis_rate.Limiter
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter on c whose keys are prefix + "rate:" + key. The caller keeps ownership of c.
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	return &Redis{lim: redis_rate.NewLimiter(prefixed{c: c, prefix: prefix})}
}

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, rule Rule) (Result, error) {
	if err := check(key, rule); err != nil {
		return Result{}, err
	}
	res, err := r.lim.Allow(ctx, key, redis_rate.Limit{Rate: rule.Limit, Burst: rule.Limit, Period: rule.Period})
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if res.Allowed > 0 {
		return Result{Allowed: true, Remaining: remaining(rule, res.ResetAfter)}, nil
	}
	// Guard the contract "RetryAfter > 0 when refused" against float rounding in the script.
	return Result{Allowed: false, RetryAfter: max(res.RetryAfter, time.Microsecond)}, nil
}

// remaining recomputes redis_rate's Remaining from ResetAfter. The script divides float seconds
// (0.9 / 0.1 = 8.999...) and truncates, so its own figure is often one short, for instance a full
// burst starting at Limit-2; allowing 1 µs, the resolution of Redis's clock, gives Memory's answer.
func remaining(rule Rule, resetAfter time.Duration) int {
	interval := rule.Period / time.Duration(rule.Limit)
	n := int((interval*time.Duration(rule.Limit) - resetAfter + time.Microsecond) / interval)
	return min(max(n, 0), rule.Limit-1)
}

// prefixed puts prefix in front of the keys redis_rate sends. redis_rate only prepends its own
// "rate:", which would place our keys outside the deployment's (or test's) prefix.
type prefixed struct {
	c      redis.UniversalClient
	prefix string
}

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + k
	}
	return out
}

func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.c.Eval(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.c.EvalSha(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.c.EvalRO(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.c.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return p.c.ScriptExists(ctx, hashes...)
}

func (p prefixed) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return p.c.ScriptLoad(ctx, script)
}

func (p prefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return p.c.Del(ctx, p.keys(keys)...)
}
