package state_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
)

// benchMGet reads 10 keys, 8 present, the shape of a revocation check over a token batch.
func benchMGet(b *testing.B, s state.Store) {
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = "revoked:jti:" + strconv.Itoa(i)
		if i < 8 {
			if err := s.Set(bg, keys[i], "1", time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.MGet(bg, keys...); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkStateMGetRedis(b *testing.B) {
	c := statetest.Client(b)
	s := state.NewRedis(c, statetest.Prefix(b, c))
	defer s.Close()
	benchMGet(b, s)
}

func BenchmarkStateMGetMemory(b *testing.B) {
	s := state.NewMemory()
	defer s.Close()
	benchMGet(b, s)
}
