package passwordreset

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Outcomes other than success.
var (
	// ErrGone covers every unusable token (unknown, expired, used, admin gone): one answer.
	ErrGone = errors.New("passwordreset: token unusable")
)

// QuotaError says an address, known or not, was submitted more often than the hourly quota
// allows, or that the in-process store tracks as many addresses as it may (Capacity).
type QuotaError struct {
	RetryAfter time.Duration
	Capacity   bool
}

func (e *QuotaError) Error() string { return "passwordreset: quota exceeded" }

const (
	tokenBytes = 32 // secrets.token_urlsafe(32): 256 bits, 43 base64url characters
	queueSize  = 64 // pending mails; beyond that requests are still answered 200 and dropped
	jobTimeout = 30 * time.Second
	quotaSpan  = time.Hour

	// quotaPrefix names the per-address counters in the state store: quotaPrefix + base64url of
	// the HMAC of the normalised address, never the address itself.
	quotaPrefix = "reset:quota:"
	// maxQuotaKeys bounds the counters the in-process store keeps (about 150 bytes each, so
	// some 15 MB at most): each submitted address holds one for an hour, and an attacker could
	// otherwise spray addresses until the heap runs out. At the limit a new address gets the
	// same 429 whether an admin has it or not, so the bound costs availability (resets for
	// addresses not already counted wait for counters to expire), never a mail beyond the
	// quota nor a hint about accounts; filling it takes 100,000 addresses in an hour, some 170
	// client IPs at the route's 10/min. Redis is bounded by its own memory policy instead.
	maxQuotaKeys = 100_000
	// fullRetryAfter is the Retry-After while the in-process store is full: counters expire
	// continuously, so a slot may free up well before an hour.
	fullRetryAfter = time.Minute
)

// job is the work done after the answer: make a token and mail it.
type job struct {
	userID int64
	email  string
}

// Service runs password resets.
type Service struct {
	cfg      ResetConfig
	quotaKey []byte // HMAC key of the per-address quota counters
	st       state.Store
	users    *store.Users
	resets   *Resets
	hasher   *passwords.Hasher
	sessions *sessions.Service
	lock     core.AccountLock
	mailer   Mailer
	metrics  *metrics.Metrics
	log      *zap.Logger
	now      func() time.Time

	queue    chan job
	stopping chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
}

// NewService builds the service and ties its mail worker to the app's lifecycle.
func NewService(lc fx.Lifecycle, cfg Config, keys core.Keys, st state.Store, users *store.Users, resets *Resets, hasher *passwords.Hasher,
	s *sessions.Service, lock core.AccountLock, mailer Mailer, m *metrics.Metrics, log *zap.Logger) *Service {
	svc := New(cfg.Reset, keys, st, users, resets, hasher, s, lock, mailer, m, log)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { svc.Start(); return nil },
		OnStop:  svc.Stop,
	})
	return svc
}

// New builds the service without starting its worker. The quota's HMAC key is derived from the
// core's encryption key for this purpose alone, so the counters' names are useless without it
// and the raw key is never used for two things; every replica derives the same key.
func New(cfg ResetConfig, keys core.Keys, st state.Store, users *store.Users, resets *Resets, hasher *passwords.Hasher,
	s *sessions.Service, lock core.AccountLock, mailer Mailer, m *metrics.Metrics, log *zap.Logger) *Service {
	if kl, ok := st.(state.KeyLimiter); ok {
		kl.LimitKeys(quotaPrefix, maxQuotaKeys)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, quotaKey: keys.Derive("cashless-auth/password-reset/quota-key/v1"), st: st,
		users: users, resets: resets, hasher: hasher, sessions: s, lock: lock, mailer: mailer,
		metrics: m, log: log.Named("password_reset"), now: time.Now,
		queue: make(chan job, queueSize), stopping: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
	}
}

// Start runs the mail worker. One worker is enough for a handful of resets an hour and keeps
// mails in request order.
func (s *Service) Start() {
	go func() {
		defer close(s.done)
		for {
			select {
			case j := <-s.queue:
				s.process(j)
			case <-s.stopping:
				for {
					select {
					case j := <-s.queue:
						s.process(j)
					default:
						return
					}
				}
			}
		}
	}()
}

// Stop lets the worker finish the queued mails until ctx ends, then aborts the one in flight.
func (s *Service) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	defer s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.cancel()
		<-s.done
		return nil
	}
}

// Request starts a reset for email and returns the admin's id (0 for any other address), for
// the audit. The quota is counted here, at request time, per submitted address once normalised
// as login does, whether an admin has it or not (docs/contract/NOTES.md, "Hardening decisions"):
// every address gets the same answers (quota_per_hour times nil, then a *QuotaError until its
// counter's hour ends), so a caller's own requests reveal no account, and however many requests
// arrive at once the store's atomic increment admits at most quota_per_hour of them. The work is
// the same for every address too (one increment, one lookup by e-mail, and for an admin within
// the quota a non-blocking queue send); the token and the mail are made by the worker after the
// answer.
func (s *Service) Request(ctx context.Context, email string) (userID int64, err error) {
	email = store.NormalizeEmail(email)
	key := s.counterKey(email)
	n, err := s.st.Incr(ctx, key, quotaSpan)
	var over *QuotaError
	switch {
	case errors.Is(err, state.ErrFull):
		over = &QuotaError{RetryAfter: fullRetryAfter, Capacity: true}
	case err != nil:
		return 0, fmt.Errorf("passwordreset: count request: %w", err)
	case n > int64(s.cfg.QuotaPerHour):
		wait, ok, err := s.st.TTL(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("passwordreset: quota ttl: %w", err)
		}
		if !ok { // the hour ended since the increment
			wait = time.Second
		} else if wait == 0 { // no expiry: cannot happen with Incr's TTL, but never promise "now"
			wait = quotaSpan
		}
		over = &QuotaError{RetryAfter: wait}
	}
	u, err := s.users.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	var id int64 // 0: no enabled admin has the address
	// A disabled account is no admin here: no mail (its link could not re-enable it anyway, and
	// mailing it would tell the caller the address is known), the same answer as an unknown one.
	if err == nil && u.Role == store.RoleAdmin && !u.Disabled() {
		id = u.ID
	}
	switch {
	case over != nil:
		return id, over
	case id == 0:
		return 0, nil
	}
	select {
	case s.queue <- job{userID: u.ID, email: u.Email}:
	default:
		s.log.Warn("password reset queue full: request dropped", zap.Int64("user_id", u.ID))
		s.metrics.DependencyError("mail")
	}
	return u.ID, nil
}

func (s *Service) process(j job) {
	ctx, cancel := context.WithTimeout(s.ctx, jobTimeout)
	defer cancel()
	log := s.log.With(zap.Int64("user_id", j.userID))
	// The request-time counters live in the state store, which an embedded restart or a Redis
	// flush empties; the tokens of the last hour in the database still bound the mails then.
	n, err := s.resets.CountSince(ctx, j.userID, s.now().Add(-quotaSpan))
	if err != nil {
		log.Error("password reset: count tokens", zap.Error(err))
		return
	}
	if n >= s.cfg.QuotaPerHour {
		log.Info("password reset: quota reached, mail not sent")
		return
	}
	token, err := newToken()
	if err != nil {
		log.Error("password reset: token", zap.Error(err))
		return
	}
	if _, err := s.resets.Create(ctx, j.userID, hashToken(token), s.now().Add(s.cfg.TTL)); err != nil {
		if !errors.Is(err, store.ErrReference) { // admin deleted meanwhile: nothing to do
			log.Error("password reset: store token", zap.Error(err))
		}
		return
	}
	msg := Message{To: j.email, Subject: "Reset your cashless-auth password", Text: s.body(token)}
	if err := s.mailer.Send(ctx, msg); err != nil {
		// Never surfaced to the caller (anti-enumeration); the admin can ask again.
		log.Warn("password reset mail failed", zap.String("to", Redact(j.email)), zap.Error(err))
		s.metrics.DependencyError("mail")
		return
	}
	log.Info("password reset mail sent", zap.String("to", Redact(j.email)))
}

func (s *Service) body(token string) string {
	link := strings.ReplaceAll(s.cfg.URLTemplate, "{token}", token)
	minutes := int(s.cfg.TTL / time.Minute)
	validity := strconv.Itoa(minutes) + " minutes"
	if minutes < 1 {
		validity = s.cfg.TTL.String()
	}
	return "Hello,\n\n" +
		"a password reset was requested for your cashless-auth admin account.\n" +
		"Open this link within " + validity + " to choose a new password:\n\n" +
		link + "\n\n" +
		"The link works once. If you did not ask for a reset, ignore this e-mail: your password stays unchanged.\n"
}

// Confirm spends token and sets the admin's new password, then ends every session of the
// admin, deletes their other reset tokens and lifts a login lock on the account. Every
// unusable token gives ErrGone.
func (s *Service) Confirm(ctx context.Context, token, newPassword string) (int64, error) {
	userID, err := s.resets.Consume(ctx, hashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrGone
	}
	if err != nil {
		return 0, err
	}
	u, err := s.users.ByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Role != store.RoleAdmin || u.Disabled())) {
		return 0, ErrGone
	}
	if err != nil {
		return 0, err
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return 0, err
	}
	if err := s.users.UpdatePasswordHash(ctx, u.ID, hash); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, ErrGone
		}
		return 0, err
	}
	if err := s.sessions.RevokeSubject(ctx, u.Role, strconv.FormatInt(u.ID, 10)); err != nil {
		return 0, err
	}
	if err := s.resets.DeleteForUser(ctx, u.ID); err != nil {
		return 0, err
	}
	if err := s.lock.Reset(ctx, s.lock.Target(u.Email)); err != nil {
		return 0, err
	}
	return u.ID, nil
}

func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("passwordreset: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// counterKey names the quota counter of a normalised address: an HMAC, so the state store
// never holds the address and its keys cannot be matched against a list of addresses without
// the service's key.
func (s *Service) counterKey(email string) string {
	mac := hmac.New(sha256.New, s.quotaKey)
	mac.Write([]byte(email))
	return quotaPrefix + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// hashToken is the stored form: SHA-256 suffices for a 256-bit random token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
