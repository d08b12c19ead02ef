package firebase

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	fb "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"github.com/nyaruka/phonenumbers"
	"go.uber.org/zap"
	"google.golang.org/api/option"

	coreauth "github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// ErrInvalidToken covers every token Firebase (or the SDK) refuses: malformed, badly signed,
// expired, revoked, of another project, of a disabled or deleted user.
var ErrInvalidToken = errors.New("firebase: invalid ID token")

// UnavailableError is a failure to reach Firebase (public certificates, revocation check).
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "firebase: unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// TokenVerifier is the part of the Admin SDK's auth.Client the lane uses.
type TokenVerifier interface {
	VerifyIDToken(ctx context.Context, idToken string) (*auth.Token, error)
	VerifyIDTokenAndCheckRevoked(ctx context.Context, idToken string) (*auth.Token, error)
}

var _ TokenVerifier = (*auth.Client)(nil)

// NewAuthClient builds the Admin SDK client for cfg.ProjectID.
func NewAuthClient(cfg Config, log *zap.Logger) (*auth.Client, error) {
	ctx := context.Background()
	var opts []option.ClientOption
	switch {
	case os.Getenv(EmulatorHostEnv) != "":
		log.Warn("FIREBASE AUTH EMULATOR IN USE: ID tokens are NOT signature-checked and anyone can forge them; "+
			"firebase.allow_emulator must never be set in production",
			zap.String(EmulatorHostEnv, os.Getenv(EmulatorHostEnv)))
		opts = append(opts, option.WithoutAuthentication())
	case cfg.CredentialsFile != "":
		opts = append(opts, option.WithCredentialsFile(cfg.CredentialsFile))
	case !cfg.CheckRevoked:
		// Verifying an ID token needs only Google's public certificates.
		opts = append(opts, option.WithoutAuthentication())
	}
	// Otherwise (check_revoked without a file): Application Default Credentials.
	app, err := fb.NewApp(ctx, &fb.Config{ProjectID: cfg.ProjectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("firebase: app: %w", err)
	}
	c, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase: auth client (check firebase.credentials_file or Application Default Credentials): %w", err)
	}
	return c, nil
}

// Service exchanges Firebase ID tokens for platform sessions.
type Service struct {
	cfg       Config
	verifier  TokenVerifier
	consumers *store.Consumers
	sessions  *sessions.Service
	log       *zap.Logger
}

// NewService builds the lane's service.
func NewService(cfg Config, v TokenVerifier, consumers *store.Consumers, s *sessions.Service, log *zap.Logger) *Service {
	return &Service{cfg: cfg, verifier: v, consumers: consumers, sessions: s, log: log.Named("firebase")}
}

// Result is a successful login.
type Result struct {
	Pair     sessions.Pair
	Consumer store.Consumer
	Created  bool
	// PhoneConflict says the token's phone number belongs to another consumer and was not
	// copied (accounts are not linked automatically).
	PhoneConflict bool
}

// Login verifies idToken and opens a consumer session for its Firebase uid, creating the
// consumer on first use and keeping the token's phone and e-mail claims.
func (s *Service) Login(ctx context.Context, idToken string) (Result, error) {
	tok, err := s.verify(ctx, idToken)
	if err != nil {
		return Result{}, err
	}
	phone, email := claim(tok, "phone_number"), claim(tok, "email")
	if phone != nil {
		phone = normalizePhone(*phone)
	}
	if email != nil {
		e := store.NormalizeEmail(*email)
		email = &e
	}
	var res Result
	res.Consumer, res.Created, err = s.consumers.UpsertByFirebaseUID(ctx, tok.UID, phone, email)
	if errors.Is(err, store.ErrConflict) && phone != nil {
		// The number already belongs to another consumer (e.g. one created by phone OTP).
		// Linking two accounts is a decision for a person, not a side effect of a login.
		res.PhoneConflict = true
		res.Consumer, res.Created, err = s.consumers.UpsertByFirebaseUID(ctx, tok.UID, nil, email)
	}
	if err != nil {
		return Result{}, fmt.Errorf("firebase: consumer: %w", err)
	}
	res.Pair, err = s.sessions.Start(ctx, sessions.Principal{Subject: strconv.FormatInt(res.Consumer.ID, 10), Role: coreauth.RoleConsumer})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

func (s *Service) verify(ctx context.Context, idToken string) (*auth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var tok *auth.Token
	var err error
	if s.cfg.CheckRevoked {
		tok, err = s.verifier.VerifyIDTokenAndCheckRevoked(ctx, idToken)
	} else {
		tok, err = s.verifier.VerifyIDToken(ctx, idToken)
	}
	switch {
	case err == nil:
		return tok, nil
	// IsIDTokenInvalid covers malformed, expired, revoked and disabled; a token whose user no
	// longer exists (checked by the revocation lookup) is no better.
	case auth.IsIDTokenInvalid(err), auth.IsUserNotFound(err), auth.IsTenantIDMismatch(err):
		s.log.Debug("ID token refused", zap.Error(err))
		return nil, ErrInvalidToken
	default:
		// Certificates could not be fetched, the revocation lookup failed, or time ran out.
		return nil, &UnavailableError{Err: err}
	}
}

func claim(tok *auth.Token, name string) *string {
	if v, ok := tok.Claims[name].(string); ok && v != "" {
		return &v
	}
	return nil
}

// normalizePhone keeps Firebase's phone_number claim in the E.164 form phone OTP uses, so one
// number is one consumer whichever lane saw it first; an unparseable claim is dropped.
func normalizePhone(raw string) *string {
	n, err := phonenumbers.Parse(raw, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return nil
	}
	e := phonenumbers.Format(n, phonenumbers.E164)
	return &e
}
