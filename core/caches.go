package core

import (
	"context"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/state"
)

// NewRevocationCache builds a cache of hot lookups whose revocations are pushed to every
// replica on channel; it subscribes when the app starts and unsubscribes when it stops.
func NewRevocationCache[V any](lc fx.Lifecycle, st state.Store, cfg config.Core, channel string) *revocation.Cache[V] {
	c := revocation.New[V](st, channel, cfg.Redis.CacheTTL)
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error { return c.Start(ctx) },
		OnStop:  func(context.Context) error { c.Stop(); return nil },
	})
	return c
}
