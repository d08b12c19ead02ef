package tokens

import (
	"encoding/json"
	"hash/maphash"
	"sync"
)

// verified remembers tokens whose signature and claims were already checked, so a token that
// other services present on every request is parsed once: a hit costs a map lookup instead of
// base64, JSON and HMAC work. Keys are the exact token text, so a different signature is a
// different entry; entries leave at their token's expiry. Bounded: a full shard drops an
// arbitrary entry.
type verified struct {
	seed   maphash.Seed
	shards [64]vshard
}

type vshard struct {
	mu sync.RWMutex
	m  map[string]*Claims
}

const perShard = 2048 // 131072 tokens in all, a few tens of MiB at most

func newVerified() *verified {
	v := &verified{seed: maphash.MakeSeed()}
	for i := range v.shards {
		v.shards[i].m = make(map[string]*Claims)
	}
	return v
}

func (v *verified) shard(token string) *vshard {
	return &v.shards[maphash.String(v.seed, token)%uint64(len(v.shards))]
}

// get returns the cached claims of token while parse would accept their times (late and early:
// Service.window). Before its iat or nbf a token is refused too: it was accepted once, but the
// clock may have stepped back since.
func (v *verified) get(token string, late, early int64) *Claims {
	sh := v.shard(token)
	sh.mu.RLock()
	c := sh.m[token]
	sh.mu.RUnlock()
	if c == nil || late >= c.ExpiresAt || early < c.validFrom {
		return nil
	}
	return c
}

func (v *verified) put(token string, c *Claims) {
	raw, err := json.Marshal(c)
	if err != nil {
		return
	}
	c.raw = raw
	sh := v.shard(token)
	sh.mu.Lock()
	if len(sh.m) >= perShard {
		for k, old := range sh.m {
			delete(sh.m, k)
			if len(sh.m) < perShard*3/4 && old != nil {
				break
			}
		}
	}
	sh.m[token] = c
	sh.mu.Unlock()
}
