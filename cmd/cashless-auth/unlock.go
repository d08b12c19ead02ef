package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// unlockCmd lifts a user's password lock and forgets its failures: ten wrong passwords from
// anywhere lock an account for up to password.lock_max, so an attacker who knows an admin's
// e-mail can keep the admin out; this is how an operator lets the admin back in
// (docs/operations.md, "Account locks").
//
// The lock lives in the state store. With Redis (redis.url) every replica shares it and this
// command clears it. The embedded backend keeps it in the memory of the serving process, which
// no other process can reach: the command then fails and says so, rather than print a success
// that changed nothing.
func unlockCmd(g *globals) *cobra.Command {
	var id int64
	unlock := &cobra.Command{
		Use: "unlock", Short: "Lift a user's password lock and forget its failed attempts; prints {\"id\": N}", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("id") {
				return errors.New("--id is required")
			}
			ctx := cmd.Context()
			db, cfg, err := openStore(ctx, g)
			if err != nil {
				return err
			}
			defer db.Close()
			u, err := store.NewUsers(db).ByID(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("user %d does not exist", id)
			}
			if err != nil {
				return err
			}
			if cfg.Redis.URL == "" {
				return fmt.Errorf("user %d: without redis.url the lock lives in the memory of the serving process, "+
					"which this command cannot reach; it ends by itself (within password.lock_max, %s), "+
					"or when the service restarts, which also ends every session", id, cfg.Password.LockMax)
			}
			c, err := state.OpenRedis(cfg.Redis.URL)
			if err != nil {
				return fmt.Errorf("redis.url: %w", err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			secrets, err := core.LoadSecrets(cfg, zap.NewNop())
			if err != nil {
				return err
			}
			// Reset needs no policy: it deletes what any policy counted for the account.
			lock := core.NewAccountLock(state.NewRedis(c, cfg.Redis.Prefix), cfg, secrets)
			if err := lock.Reset(ctx, lock.Target(u.Email)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "user %d: password lock lifted, failed attempts forgotten\n", id)
			return printID(cmd.OutOrStdout(), id)
		},
	}
	unlock.Flags().Int64Var(&id, "id", 0, "user id")
	return unlock
}
