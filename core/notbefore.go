package core

import (
	"context"
	"fmt"
	"strconv"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/notbefore"
	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// newNotBefore is the per-subject revocation time of NOTES.md, cached per replica (users and
// devices apart, so a token's sub is the cache key as it is) and pushed to every replica.
func newNotBefore(lc fx.Lifecycle, db *store.DB, st state.Store, cfg config.Core) *notbefore.Service {
	return notbefore.New(store.NewTokenNotBefore(db),
		NewRevocationCache[int64](lc, st, cfg, notbefore.UserChannel),
		NewRevocationCache[int64](lc, st, cfg, notbefore.DeviceChannel))
}

// Revoker ends what a user or a device holds from outside the serving processes: the CLI's
// `users revoke-session` and `devices archive`. It sets the same not-before time, through the
// same code, as a password reset in the service does. With the shared state store (Redis) it
// also deletes the user's sessions and pushes the revocation to every replica, waiting for
// their confirmation; without it (the embedded backend, whose state lives in the serving
// process) the database alone carries the revocation, and the serving process applies it when
// its cached entry expires (redis.cache_ttl).
type Revoker struct {
	users    *store.Users
	devices  *store.Devices
	nb       *notbefore.Service
	sessions *sessions.Service // nil without a shared state store
	stop     []func()
}

// OpenRevoker builds a Revoker over db and, when st is not nil, the replicas' shared state
// store. Close releases it.
func OpenRevoker(ctx context.Context, db *store.DB, st state.Store, cfg config.Core) (*Revoker, error) {
	r := &Revoker{users: store.NewUsers(db), devices: store.NewDevices(db)}
	repo := store.NewTokenNotBefore(db)
	if st == nil {
		r.nb = notbefore.New(repo, nil, nil)
		return r, nil
	}
	// Started caches join the replicas' membership, so that a revocation waits until every
	// replica has confirmed it; they cache nothing here.
	users := revocation.New[int64](st, notbefore.UserChannel, cfg.Redis.CacheTTL)
	devices := revocation.New[int64](st, notbefore.DeviceChannel, cfg.Redis.CacheTTL)
	alive := revocation.New[struct{}](st, sessionsChannel, cfg.Redis.CacheTTL)
	for _, c := range []interface {
		Start(context.Context) error
		Stop()
	}{users, devices, alive} {
		if err := c.Start(ctx); err != nil {
			r.Close()
			return nil, fmt.Errorf("core: join the replicas' revocations: %w", err)
		}
		r.stop = append(r.stop, c.Stop)
	}
	r.nb = notbefore.New(repo, users, devices)
	r.sessions = sessions.New(nil, st, sessions.Config{AccessTTL: cfg.JWT.AccessTTL, RefreshTTL: cfg.JWT.RefreshTTL, NotBefore: r.nb}, alive)
	return r, nil
}

// Close leaves the replicas' membership.
func (r *Revoker) Close() {
	for _, stop := range r.stop {
		stop()
	}
}

// RevokeUser ends everything user id holds: every token issued to it until now (access,
// refresh and offline tokens, on every replica: its not-before time), its sessions, and its
// legacy operator token (ost_, which the next POST /devices/operator-token replaces).
// store.ErrNotFound for an unknown user.
func (r *Revoker) RevokeUser(ctx context.Context, id int64) error {
	u, err := r.users.ByID(ctx, id)
	if err != nil {
		return err
	}
	sub := strconv.FormatInt(id, 10)
	if r.sessions != nil {
		err = r.sessions.RevokeSubject(ctx, u.Role, sub)
	} else {
		err = r.nb.RevokeSubject(ctx, u.Role, sub)
	}
	if err != nil {
		return err
	}
	return r.users.ClearSessionToken(ctx, id)
}

// ArchiveDevice retires device id: it can no longer log in or get tokens, and every token
// issued to it until now (device login, POST /devices/{id}/token, offline tokens naming it) is
// refused by POST /tokens/verify. store.ErrNotFound for an unknown device.
func (r *Revoker) ArchiveDevice(ctx context.Context, id int64) error {
	if err := r.devices.Archive(ctx, id); err != nil {
		return err
	}
	if err := r.nb.Revoke(ctx, store.SubjectDevice, id); err != nil {
		return err
	}
	return nil
}
