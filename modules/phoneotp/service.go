package phoneotp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/lockout"
	"github.com/cashlessmedia/cashless-auth/core/ratelimit"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Outcomes other than success. Every code problem (wrong, expired, used, voided, never sent)
// is ErrBadCode, so the answer says nothing about which.
var (
	ErrInvalidPhone = errors.New("phoneotp: invalid phone number")
	ErrBadCode      = errors.New("phoneotp: wrong, expired or used code")
	// ErrCodeUsed is ErrBadCode for the code a success just took, arriving again (a retry, a
	// double tap): refused alike, but no guess, so it counts against nothing (NOTES.md,
	// "Hardening decisions").
	ErrCodeUsed = fmt.Errorf("%w: taken by a successful verification", ErrBadCode)
)

// LimitedError refuses a number for a while: too many codes sent, or too many wrong codes.
type LimitedError struct {
	Reason     string // "send_limit" or "too_many_failures"
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string { return "phoneotp: limited: " + e.Reason }

// SendError is a failure of the SMS provider; the code it carried has been voided.
type SendError struct{ Err error }

func (e *SendError) Error() string { return "phoneotp: send: " + e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

const failureWindow = time.Hour

// Service issues and checks one-time codes. Only an HMAC of each code is stored, in the shared
// state store, under keys derived from the E.164 number:
//
//	otp:code:<e164>       "<code id>.<hmac>"  (TTL code_ttl; a new request replaces it)
//	attempts:otp:<id>     tries of that code  (core/lockout; TTL code_ttl)
//	otp:used:<e164>       set of the hmacs of codes taken (TTL code_ttl from the last)
//	otp:fails:<e164>      wrong codes in the current hour, across codes
type Service struct {
	cfg       Config
	key       []byte
	st        state.Store
	tries     *lockout.Locker
	limiter   ratelimit.Limiter
	sender    Sender
	consumers *store.Consumers
	sessions  *sessions.Service
	log       *zap.Logger
}

// NewService builds the lane's service. The HMAC key is derived for this use alone (core.Keys),
// so code hashes are useless without the core's encryption key, which the lane never holds.
func NewService(cfg Config, keys core.Keys, st state.Store, limiter ratelimit.Limiter, sender Sender, consumers *store.Consumers, s *sessions.Service, log *zap.Logger) *Service {
	// A code's tries are reserved before each comparison (core/lockout), so however many
	// requests race, at most max_attempts wrong ones are compared; the lock the last one starts
	// outlives the code. A right try is released, so copies of the right code, sent at once,
	// use up no tries of the one that takes it.
	tries := lockout.New(st, lockout.Policy{After: cfg.MaxAttempts, Base: cfg.CodeTTL, Max: cfg.CodeTTL, Memory: cfg.CodeTTL})
	return &Service{cfg: cfg, key: keys.Derive("cashless-auth/phone-otp/code-hash/v1"), st: st, tries: tries, limiter: limiter, sender: sender, consumers: consumers, sessions: s, log: log.Named("phone_otp")}
}

// Normalize returns the E.164 form of a number, or ErrInvalidPhone.
func (s *Service) Normalize(raw string) (string, error) {
	n, err := phonenumbers.Parse(raw, s.cfg.DefaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalidPhone
	}
	e := phonenumbers.Format(n, phonenumbers.E164)
	// libphonenumber's metadata allows some national numbers (German ones) up to 17 digits; E.164
	// allows 15 in all, and SMS gateways refuse longer ones (found by FuzzNormalize).
	if len(e) > len("+")+15 {
		return "", ErrInvalidPhone
	}
	return e, nil
}

// Request sends a new code to phone, replacing any earlier one, and returns the E.164 number.
func (s *Service) Request(ctx context.Context, raw string) (string, error) {
	phone, err := s.Normalize(raw)
	if err != nil {
		return "", err
	}
	// A number locked for wrong codes could not use a new one: don't spend an SMS on it.
	if err := s.checkFailures(ctx, phone); err != nil {
		return phone, err
	}
	res, err := s.limiter.Allow(ctx, "phone_send:"+phone, ratelimit.Rule{Limit: s.cfg.SendsPerHour, Period: time.Hour})
	if err != nil {
		return phone, fmt.Errorf("phoneotp: send limit: %w", err)
	}
	if !res.Allowed {
		return phone, &LimitedError{Reason: "send_limit", RetryAfter: res.RetryAfter}
	}
	code, err := newCode()
	if err != nil {
		return phone, err
	}
	record := tokens.NewID() + "." + s.hash(phone, code)
	if err := s.st.Set(ctx, codeKey(phone), record, s.cfg.CodeTTL); err != nil {
		return phone, fmt.Errorf("phoneotp: store code: %w", err)
	}
	err = s.sender.Send(ctx, Message{To: phone, Body: messageBody(code, s.cfg.CodeTTL), Code: code})
	if err != nil {
		// The code may never arrive: void it, so nothing usable is left behind. A detached
		// context, since the request's may be what failed.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, derr := s.st.CompareAndDelete(dctx, codeKey(phone), record); derr != nil {
			s.log.Error("could not void a code after a failed send", zap.String("to", MaskPhone(phone)), zap.Error(derr))
		}
		return phone, &SendError{Err: err}
	}
	return phone, nil
}

// Verify checks a code and, when it is right, opens a consumer session (creating the consumer
// on first use). It returns the session pair and the consumer.
func (s *Service) Verify(ctx context.Context, raw, code string) (sessions.Pair, store.Consumer, error) {
	phone, err := s.Normalize(raw)
	if err != nil {
		return sessions.Pair{}, store.Consumer{}, err
	}
	if err := s.checkFailures(ctx, phone); err != nil {
		return sessions.Pair{}, store.Consumer{}, err
	}
	if err := s.consume(ctx, phone, code); err != nil {
		return sessions.Pair{}, store.Consumer{}, err
	}
	if err := s.st.Del(ctx, failsKey(phone)); err != nil {
		s.log.Warn("could not reset the failure count", zap.Error(err))
	}
	c, _, err := s.consumers.UpsertByPhone(ctx, phone)
	if err != nil {
		return sessions.Pair{}, store.Consumer{}, fmt.Errorf("phoneotp: consumer: %w", err)
	}
	pair, err := s.sessions.Start(ctx, sessions.Principal{Subject: strconv.FormatInt(c.ID, 10), Role: auth.RoleConsumer})
	if err != nil {
		return sessions.Pair{}, store.Consumer{}, err
	}
	return pair, c, nil
}

// consume takes the code if it is right. A wrong code counts against the number's hourly
// budget; a copy of the code a success took does not (ErrCodeUsed).
func (s *Service) consume(ctx context.Context, phone, code string) error {
	h := s.hash(phone, code)
	record, ok, err := s.st.Get(ctx, codeKey(phone))
	if err != nil {
		return fmt.Errorf("phoneotp: load code: %w", err)
	}
	if !ok {
		return s.wrong(ctx, phone, h)
	}
	id, want, _ := strings.Cut(record, ".")
	try, wait, err := s.tries.Reserve(ctx, id)
	if err != nil {
		return fmt.Errorf("phoneotp: count try: %w", err)
	}
	if wait > 0 {
		// The code's last try was wrong: the code is void. Not deleted here, since a lock that
		// outlived the wait for its try to be judged may yet be lifted by a right one.
		return s.wrong(ctx, phone, h)
	}
	// Bookkeeping after the comparison must happen even if the client has gone.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if !hmac.Equal([]byte(h), []byte(want)) {
		err := s.wrong(ctx, phone, h)
		if errors.Is(err, ErrCodeUsed) {
			s.settle(dctx, try.Release)
			return err
		}
		if try.Locked() > 0 {
			s.void(dctx, phone, record)
		}
		s.settle(dctx, try.Fail)
		return err
	}
	defer s.settle(dctx, try.Release)
	// Remembered before it is taken: a copy that finds the code gone must recognise it.
	if err := s.st.SAdd(ctx, usedKey(phone), h, s.cfg.CodeTTL); err != nil {
		return fmt.Errorf("phoneotp: mark code used: %w", err)
	}
	// Single use: only the request that deletes this exact record wins.
	taken, err := s.st.CompareAndDelete(ctx, codeKey(phone), record)
	if err != nil {
		return fmt.Errorf("phoneotp: take code: %w", err)
	}
	if !taken {
		// Right, but another copy took it (or a newer request replaced it): no guess either.
		return ErrCodeUsed
	}
	return nil
}

// wrong answers a code that is not the live one: a code taken lately (a few at most: each was
// sent, within phone_otp.sends_per_hour), arriving again, is ErrCodeUsed; anything else counts
// as a wrong code.
func (s *Service) wrong(ctx context.Context, phone, h string) error {
	used, err := s.st.SMembers(ctx, usedKey(phone))
	if err != nil {
		return fmt.Errorf("phoneotp: load used codes: %w", err)
	}
	for _, u := range used {
		if hmac.Equal([]byte(u), []byte(h)) {
			return ErrCodeUsed
		}
	}
	return s.fail(ctx, phone)
}

// settle records how a reserved try ended; a failure to do so only leaves it counted, or its
// lock pending until it ends, so it is logged rather than returned.
func (s *Service) settle(ctx context.Context, how func(context.Context) error) {
	if err := how(ctx); err != nil {
		s.log.Warn("could not settle a code try", zap.Error(err))
	}
}

func (s *Service) void(ctx context.Context, phone, record string) {
	if _, err := s.st.CompareAndDelete(ctx, codeKey(phone), record); err != nil {
		s.log.Warn("could not void a code", zap.String("to", MaskPhone(phone)), zap.Error(err))
	}
}

// fail counts a wrong code against the number's hourly budget and returns ErrBadCode.
func (s *Service) fail(ctx context.Context, phone string) error {
	if _, err := s.st.Incr(ctx, failsKey(phone), failureWindow); err != nil {
		return fmt.Errorf("phoneotp: count failure: %w", err)
	}
	return ErrBadCode
}

// checkFailures refuses a number that used up its wrong codes for the current hour.
func (s *Service) checkFailures(ctx context.Context, phone string) error {
	v, ok, err := s.st.Get(ctx, failsKey(phone))
	if err != nil {
		return fmt.Errorf("phoneotp: load failures: %w", err)
	}
	if !ok {
		return nil
	}
	if n, _ := strconv.Atoi(v); n < s.cfg.FailuresPerHour {
		return nil
	}
	ttl, _, err := s.st.TTL(ctx, failsKey(phone))
	if err != nil {
		return fmt.Errorf("phoneotp: load failures: %w", err)
	}
	return &LimitedError{Reason: "too_many_failures", RetryAfter: max(ttl, time.Second)}
}

// hash is the stored form of a code: HMAC-SHA256 over the number and the code, hex.
func (s *Service) hash(phone, code string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(phone))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// newCode draws 6 uniformly random digits from crypto/rand.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("phoneotp: random: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func messageBody(code string, ttl time.Duration) string {
	return fmt.Sprintf("%s is your verification code. It expires in %s. Never share it.", code, humanDuration(ttl))
}

func humanDuration(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		if m := int(d / time.Minute); m != 1 {
			return strconv.Itoa(m) + " minutes"
		}
		return "1 minute"
	}
	secs := int((d + time.Second - 1) / time.Second)
	if secs == 1 {
		return "1 second"
	}
	return strconv.Itoa(secs) + " seconds"
}

func codeKey(phone string) string  { return "otp:code:" + phone }
func usedKey(phone string) string  { return "otp:used:" + phone }
func failsKey(phone string) string { return "otp:fails:" + phone }
