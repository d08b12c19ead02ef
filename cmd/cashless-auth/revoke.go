package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/state"
)

// withRevoker runs fn with a core.Revoker over the configured database and, with redis.url,
// the replicas' shared state store, so that a revocation reaches every running replica before
// the command answers. Without Redis (the embedded backend) it says on stderr when the serving
// process applies it.
func withRevoker(ctx context.Context, g *globals, stderr io.Writer, fn func(*core.Revoker) error) error {
	db, cfg, err := openStore(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	var st state.Store
	if cfg.Redis.URL != "" {
		c, err := state.OpenRedis(cfg.Redis.URL)
		if err != nil {
			return fmt.Errorf("redis.url: %w", err)
		}
		defer c.Close()
		rs := state.NewRedis(c, cfg.Redis.Prefix)
		defer rs.Close()
		st = rs
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := core.OpenRevoker(ctx, db, st, cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := fn(r); err != nil {
		return err
	}
	if st == nil {
		fmt.Fprintf(stderr, "without redis.url the serving process applies this within redis.cache_ttl (%s)\n", cfg.Redis.CacheTTL)
	}
	return nil
}
