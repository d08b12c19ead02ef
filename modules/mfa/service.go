package mfa

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/lockout"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// RFC 6238 parameters pinned by NOTES.md: 6 digits, 30 s steps, ±1 step of skew.
const (
	period = 30 * time.Second
	skew   = 1
	digits = otp.DigitsSix
)

// sealPurpose binds sealed TOTP secrets to this use (core/seal).
const sealPurpose = "mfa"

// usedTTL keeps a used code's marker until the code can no longer be accepted: a step is
// accepted from its start until the end of the following step (skew), i.e. 60 s, plus margin
// for clock differences between replicas.
const usedTTL = 2 * time.Minute

// lockPolicy is NOTES.md's TOTP cap per admin: 10 consecutive failures lock verification for 15 min.
var lockPolicy = lockout.Policy{After: 10, Base: 15 * time.Minute, Max: 15 * time.Minute}

// Outcomes of Setup and Verify other than success.
var (
	// ErrBadCode is a wrong, malformed or already used code; the client sees one answer.
	ErrBadCode = errors.New("mfa: invalid code")
	// ErrCodeUsed is ErrBadCode for the right code of a time step a verification already took:
	// refused alike (replay), but no guess, so it does not count towards the lock (NOTES.md,
	// "Hardening decisions"): an admin double-submitting must not lock themselves out.
	ErrCodeUsed = fmt.Errorf("%w: already used", ErrBadCode)
	// ErrNotEnrolled means the admin has neither a pending nor an active secret.
	ErrNotEnrolled = errors.New("mfa: not set up")
	// ErrStepUpRequired refuses to replace an active secret without a fresh verification of it.
	ErrStepUpRequired = errors.New("mfa: active secret must be verified first")
	// ErrUnknownAdmin means the bearer's account no longer exists.
	ErrUnknownAdmin = errors.New("mfa: unknown admin")
)

// LockedError says verification is locked for this admin after repeated failures.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string { return "mfa: verification locked" }

// Enrolment is the contract's MFASetupResponse.
type Enrolment struct {
	Secret string `json:"secret"`
	QRURI  string `json:"qr_uri"`
}

// Service enrols and verifies TOTP secrets.
type Service struct {
	cfg       Config
	users     *store.Users
	factors   *Factors
	st        state.Store
	lock      *lockout.Locker
	sessions  *sessions.Service
	tok       *tokens.Service
	freshness time.Duration
	log       *zap.Logger
}

// NewService builds the service.
func NewService(cfg Config, coreCfg config.Core, users *store.Users, factors *Factors, st state.Store, s *sessions.Service, tok *tokens.Service, log *zap.Logger) *Service {
	return &Service{
		cfg: cfg, users: users, factors: factors, st: st, lock: lockout.New(st, lockPolicy),
		sessions: s, tok: tok, freshness: coreCfg.MFA.Freshness, log: log.Named("mfa"),
	}
}

// Setup generates a new secret for the admin and keeps it sealed as pending until verified; a
// new setup supersedes a pending one. Once MFA is active, replacing the secret needs a token
// verified within the freshness window: otherwise a stolen password-only token could enrol
// the thief's authenticator and step itself up.
func (s *Service) Setup(ctx context.Context, c *tokens.Claims) (Enrolment, error) {
	u, err := s.admin(ctx, c)
	if err != nil {
		return Enrolment{}, err
	}
	fac, err := s.factor(ctx, u.ID)
	if err != nil {
		return Enrolment{}, err
	}
	if fac.Enabled && !s.fresh(c) {
		return Enrolment{}, ErrStepUpRequired
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Issuer, AccountName: u.Email, Period: uint(period / time.Second), Digits: digits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Enrolment{}, fmt.Errorf("mfa: generate: %w", err)
	}
	if err := s.factors.Setup(ctx, u.ID, key.Secret()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Enrolment{}, ErrUnknownAdmin
		}
		return Enrolment{}, err
	}
	return Enrolment{Secret: key.Secret(), QRURI: key.URL()}, nil
}

// Verify checks code against the pending secret if there is one, else the active one. A
// success activates a pending secret and opens a new session whose tokens carry
// mfa_verified_at = now. Each code is accepted once, and consecutive failures lock the admin.
func (s *Service) Verify(ctx context.Context, c *tokens.Claims, code string) (sessions.Pair, error) {
	target := "mfa:" + c.Subject
	if wait, locked, err := s.lock.Locked(ctx, target); err != nil {
		return sessions.Pair{}, err
	} else if locked {
		return sessions.Pair{}, &LockedError{RetryAfter: wait}
	}
	u, err := s.admin(ctx, c)
	if err != nil {
		return sessions.Pair{}, err
	}
	fac, err := s.factor(ctx, u.ID)
	if err != nil {
		return sessions.Pair{}, err
	}
	secret, pending := fac.Pending, true
	if secret == "" {
		secret, pending = fac.Secret, false
	}
	if secret == "" {
		return sessions.Pair{}, ErrNotEnrolled
	}
	now := s.tok.Now()
	counter, ok := match(secret, code, now)
	if !ok {
		if _, err := s.lock.Fail(ctx, target); err != nil {
			return sessions.Pair{}, err
		}
		return sessions.Pair{}, ErrBadCode
	}
	// Single use across replicas: the first request to mark this step wins. The marker is
	// written only for a right code, so a step already marked means this code was right and
	// taken: the code itself is what recognises a copy, nothing of it is stored.
	first, err := s.st.SetNX(ctx, "totp:used:"+c.Subject+":"+strconv.FormatUint(counter, 10), "1", usedTTL)
	if err != nil {
		return sessions.Pair{}, fmt.Errorf("mfa: mark code used: %w", err)
	}
	if !first {
		return sessions.Pair{}, ErrCodeUsed
	}
	if pending {
		// ErrNotFound: a concurrent verification activated this secret already, or a new setup
		// replaced it; the code was right either way, and a replacing secret awaits its own.
		if err := s.factors.Activate(ctx, u.ID, fac); err != nil && !errors.Is(err, store.ErrNotFound) {
			return sessions.Pair{}, err
		}
	}
	if err := s.lock.Reset(ctx, target); err != nil {
		return sessions.Pair{}, err
	}
	at := now.Unix()
	return s.sessions.Start(ctx, sessions.Principal{Subject: c.Subject, Role: c.Role, EventID: c.EventID, MFAVerifiedAt: &at})
}

func (s *Service) admin(ctx context.Context, c *tokens.Claims) (store.User, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return store.User{}, ErrUnknownAdmin
	}
	u, err := s.users.ByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Role != store.RoleAdmin) {
		return store.User{}, ErrUnknownAdmin
	}
	return u, err
}

// factor is the admin's TOTP state.
func (s *Service) factor(ctx context.Context, id int64) (Factor, error) {
	fac, err := s.factors.Load(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Factor{}, ErrUnknownAdmin
	}
	if err != nil {
		return Factor{}, fmt.Errorf("mfa: secrets of admin %d: %w", id, err)
	}
	return fac, nil
}

func (s *Service) fresh(c *tokens.Claims) bool {
	return c.MFAVerifiedAt != nil && s.tok.Now().Sub(time.Unix(*c.MFAVerifiedAt, 0)) <= s.freshness
}

// match reports which time step, within the allowed skew, code belongs to. Every candidate is
// computed and compared in constant time, so timing does not tell how close a guess was.
func match(secret, code string, now time.Time) (uint64, bool) {
	if len(code) != int(digits) {
		return 0, false
	}
	current := uint64(now.Unix()) / uint64(period/time.Second)
	var found uint64
	hit := 0
	for d := -skew; d <= skew; d++ {
		counter := current + uint64(int64(d))
		want, err := hotp.GenerateCodeCustom(secret, counter, hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && hit == 0 {
			found, hit = counter, 1
		}
	}
	return found, hit == 1
}
