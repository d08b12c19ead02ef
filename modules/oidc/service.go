package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nyaruka/phonenumbers"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core/identity"
	"github.com/cashlessmedia/cashless-auth/core/state"
)

// ErrUnknownProvider says no enabled provider has the name in the path.
var ErrUnknownProvider = errors.New("oidc: no such provider")

// Service exchanges providers' ID tokens for platform sessions.
type Service struct {
	verifiers  map[string]*verifier
	identities *identity.Service
	st         state.Store
	log        *zap.Logger
	now        func() time.Time
}

// NewService builds a verifier for each enabled provider. Nothing is fetched yet: a provider
// down at start stops no one, and its keys are fetched at its first login.
func NewService(cfg Config, identities *identity.Service, st state.Store, log *zap.Logger) *Service {
	client := &http.Client{
		Timeout: cfg.Timeout,
		// A provider's documents are served where they are named; a redirect is not followed
		// to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s := &Service{verifiers: map[string]*verifier{}, identities: identities, st: st, log: log.Named("oidc"), now: time.Now}
	for name, p := range cfg.Providers {
		if !p.Enabled {
			continue
		}
		s.verifiers[name] = &verifier{p: p, keys: newKeySource(p.Issuer, p.JWKSURL, client, cfg.RefreshInterval, cfg.MaxKeyAge), now: time.Now}
	}
	return s
}

// Login verifies idToken for the named provider and signs its consumer in. nonce is the raw
// nonce the client generated for the sign-in ("" for none).
func (s *Service) Login(ctx context.Context, provider, idToken, nonce string) (identity.Result, error) {
	v, ok := s.verifiers[provider]
	if !ok {
		return identity.Result{}, ErrUnknownProvider
	}
	id, err := v.verify(ctx, idToken, nonce)
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			s.log.Debug("ID token refused", zap.String("provider", provider), zap.Error(err))
		}
		return identity.Result{}, err
	}
	if err := s.firstUse(ctx, id, idToken, v.p.Leeway); err != nil {
		return identity.Result{}, err
	}
	claims := identity.Claims{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}
	if v.p.LinkPhone && id.Phone != nil {
		claims.Phone = e164(*id.Phone)
	}
	res, err := s.identities.SignIn(ctx, claims)
	if err != nil {
		return identity.Result{}, fmt.Errorf("oidc: %w", err)
	}
	return res, nil
}

// firstUse records the token as used until it expires, and refuses it if it was: an ID token
// is a one-time proof of a sign-in, and one lifted from a device or a log must not open more
// sessions. Only verified tokens are recorded, so forgeries cannot fill the store.
func (s *Service) firstUse(ctx context.Context, id Identity, idToken string, leeway time.Duration) error {
	sum := sha256.Sum256([]byte(idToken))
	ttl := id.Expiry.Sub(s.now()) + leeway
	if ttl < time.Second {
		ttl = time.Second
	}
	first, err := s.st.SetNX(ctx, "oidc:used:"+hex.EncodeToString(sum[:]), "1", ttl)
	if err != nil {
		return fmt.Errorf("oidc: replay check: %w", err)
	}
	if !first {
		return fmt.Errorf("%w: already used", ErrInvalidToken)
	}
	return nil
}

// e164 keeps a provider's phone_number claim in the form the phone OTP lane uses, so one number
// is one consumer whichever lane saw it first; an unparseable claim is dropped.
func e164(raw string) *string {
	n, err := phonenumbers.Parse(raw, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return nil
	}
	e := phonenumbers.Format(n, phonenumbers.E164)
	return &e
}
