package core

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// bootstrapAdmin creates the configured first admin when no admin exists, so a fresh
// deployment can be reached without shell access to run the CLI.
func bootstrapAdmin(cfg config.Core, users *store.Users, h *passwords.Hasher, log *zap.Logger) error {
	if cfg.Bootstrap.AdminEmail == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	n, err := users.CountByRole(ctx, auth.RoleAdmin)
	if err != nil {
		return fmt.Errorf("core: bootstrap: %w", err)
	}
	if n > 0 {
		return nil
	}
	hash, err := h.Hash(ctx, cfg.Bootstrap.AdminPassword)
	if err != nil {
		return fmt.Errorf("core: bootstrap: %w", err)
	}
	id, err := users.Create(ctx, store.NewUser{Email: cfg.Bootstrap.AdminEmail, PasswordHash: hash, Role: auth.RoleAdmin})
	if errors.Is(err, store.ErrConflict) {
		// Another replica won the race; that admin is the bootstrap admin.
		return nil
	}
	if err != nil {
		return fmt.Errorf("core: bootstrap: %w", err)
	}
	log.Info("bootstrap admin created", zap.Int64("user_id", id))
	return nil
}
