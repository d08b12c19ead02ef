package passwordreset

import (
	"context"
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
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Outcomes other than success.
var (
	// ErrGone covers every unusable token (unknown, expired, used, admin gone): one answer.
	ErrGone = errors.New("passwordreset: token unusable")
)

// QuotaError says a known admin asked for more reset mails than the hourly quota allows.
type QuotaError struct{ RetryAfter time.Duration }

func (e *QuotaError) Error() string { return "passwordreset: quota exceeded" }

const (
	tokenBytes = 32 // secrets.token_urlsafe(32): 256 bits, 43 base64url characters
	queueSize  = 64 // pending mails; beyond that requests are still answered 200 and dropped
	jobTimeout = 30 * time.Second
	quotaSpan  = time.Hour
)

// job is the work done after the answer: make a token and mail it.
type job struct {
	userID int64
	email  string
}

// Service runs password resets.
type Service struct {
	cfg      ResetConfig
	users    *store.Users
	resets   *store.PasswordResets
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
func NewService(lc fx.Lifecycle, cfg Config, users *store.Users, resets *store.PasswordResets, hasher *passwords.Hasher,
	s *sessions.Service, lock core.AccountLock, mailer Mailer, m *metrics.Metrics, log *zap.Logger) *Service {
	svc := New(cfg.Reset, users, resets, hasher, s, lock, mailer, m, log)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { svc.Start(); return nil },
		OnStop:  svc.Stop,
	})
	return svc
}

// New builds the service without starting its worker.
func New(cfg ResetConfig, users *store.Users, resets *store.PasswordResets, hasher *passwords.Hasher,
	s *sessions.Service, lock core.AccountLock, mailer Mailer, m *metrics.Metrics, log *zap.Logger) *Service {
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, users: users, resets: resets, hasher: hasher, sessions: s, lock: lock, mailer: mailer,
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

// Request starts a reset for email. Only the quota is decided here; the token and the mail are
// made by the worker after the answer, so a known admin's request costs the caller the same
// as an unknown address: one lookup by e-mail and one count query (padded for unknown
// addresses). Answering 429 for a known admin over quota reveals nothing new: only requests
// for that account have used its quota, so whoever triggers the 429 already knew it existed.
func (s *Service) Request(ctx context.Context, email string) (userID int64, err error) {
	u, err := s.users.ByEmail(ctx, email)
	known := err == nil && u.Role == store.RoleAdmin
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	id := u.ID
	if !known {
		id = 0 // no user has id 0: the same query, for the same cost
	}
	n, err := s.resets.CountSince(ctx, id, s.now().Add(-quotaSpan))
	if err != nil {
		return 0, err
	}
	if !known {
		return 0, nil
	}
	if n >= s.cfg.QuotaPerHour {
		return u.ID, &QuotaError{RetryAfter: quotaSpan}
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
	// Requests admitted together may all have passed the quota before any token existed.
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
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Role != store.RoleAdmin) {
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
	if err := s.lock.Reset(ctx, core.LoginLockTarget(u.Email)); err != nil {
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

// hashToken is the stored form: SHA-256 suffices for a 256-bit random token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
