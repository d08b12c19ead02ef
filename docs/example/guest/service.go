package guest

import (
	"context"
	"errors"

	"github.com/cashlessmedia/cashless-auth/core/identity"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// ErrUsedUp says the wristband has had its sign-ins.
var ErrUsedUp = errors.New("guest: wristband used up")

// Service signs guests in.
type Service struct {
	cfg        Config
	db         *store.DB
	identities *identity.Service
}

// NewService is the module's constructor; fx injects the section and the core's services.
func NewService(cfg Config, db *store.DB, identities *identity.Service) *Service {
	return &Service{cfg: cfg, db: db, identities: identities}
}

// Login counts the visit in the module's own table and signs the wristband's consumer in.
func (s *Service) Login(ctx context.Context, code, gate string) (identity.Result, error) {
	var visits int
	err := s.db.X.QueryRowContext(ctx, s.db.X.Rebind(
		`INSERT INTO guest_visits (code, gate, visits) VALUES (?, ?, 1)
		 ON CONFLICT (code) DO UPDATE SET visits = guest_visits.visits + 1, gate = excluded.gate
		 RETURNING visits`), code, gate).Scan(&visits)
	if err != nil {
		return identity.Result{}, s.db.Err(ctx, "guest.visit", err)
	}
	if visits > s.cfg.MaxVisits {
		return identity.Result{}, ErrUsedUp
	}
	return s.identities.SignIn(ctx, identity.Claims{Issuer: s.cfg.Issuer, Subject: code})
}
