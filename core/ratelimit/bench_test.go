package ratelimit_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

// benchKeys spreads requests over many clients, as per-IP limiting sees them.
const benchKeys = 10_000

func benchLimiter(b *testing.B, lim ratelimit.Limiter) {
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = "route:tokens.verify:ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	rule := ratelimit.Rule{Limit: 600, Period: time.Minute}
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := keys[next.Add(1)%benchKeys]
			if _, err := lim.Allow(bg, k, rule); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLimiterMemory(b *testing.B) {
	benchLimiter(b, ratelimit.NewMemory())
}

func BenchmarkLimiterRedis(b *testing.B) {
	c := statetest.Client(b)
	benchLimiter(b, ratelimit.NewRedis(c, statetest.Prefix(b, c)))
}
