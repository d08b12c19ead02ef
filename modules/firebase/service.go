package firebase

import (
	"context"
	"errors"
	"fmt"
	"os"

	fb "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/auth"
	"github.com/nyaruka/phonenumbers"
	"go.uber.org/zap"
	"google.golang.org/api/option"

	"github.com/cashlessmedia/cashless-auth/core/identity"
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
			"modules.firebase.allow_emulator must never be set in production",
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
		return nil, fmt.Errorf("firebase: auth client (check modules.firebase.credentials_file or Application Default Credentials): %w", err)
	}
	return c, nil
}

// Service exchanges Firebase ID tokens for platform sessions.
type Service struct {
	cfg        Config
	verifier   TokenVerifier
	identities *identity.Service
	db         *store.DB
	log        *zap.Logger
}

// NewService builds the lane's service.
func NewService(cfg Config, v TokenVerifier, identities *identity.Service, db *store.DB, log *zap.Logger) *Service {
	return &Service{cfg: cfg, verifier: v, identities: identities, db: db, log: log.Named("firebase")}
}

// Result is a successful login.
type Result = identity.Result

// Login verifies idToken and opens a consumer session for the identity it proves (the token's
// issuer, https://securetoken.google.com/<project>, and its uid), creating the consumer on first
// use and keeping the token's phone and e-mail claims.
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
	res, err := s.identities.SignIn(ctx, identity.Claims{
		Issuer: tok.Issuer, Subject: tok.UID, Phone: phone, Email: email,
		Legacy: func(ctx context.Context) (int64, bool, error) { return s.legacyConsumer(ctx, tok.UID) },
	})
	if err != nil {
		return Result{}, fmt.Errorf("firebase: %w", err)
	}
	if err := s.keepLegacyLink(ctx, res.Consumer.ID, tok.UID); err != nil {
		return Result{}, err
	}
	return res, nil
}

// legacyConsumer finds the consumer releases before identities linked to uid, through the
// consumers.firebase_uid column; the first sign-in after the upgrade links the identity to it.
func (s *Service) legacyConsumer(ctx context.Context, uid string) (int64, bool, error) {
	var id int64
	err := s.db.X.QueryRowContext(ctx, s.db.X.Rebind(`SELECT id FROM consumers WHERE firebase_uid = ?`), uid).Scan(&id)
	switch err = s.db.Err(ctx, "firebase.legacy_consumer", err); {
	case err == nil:
		return id, true, nil
	case errors.Is(err, store.ErrNotFound):
		return 0, false, nil
	default:
		return 0, false, err
	}
}

// keepLegacyLink writes the uid into consumers.firebase_uid as releases before identities did, so
// that the previous release, rolled back to, finds the consumers this one created (expand, then
// contract: the column goes in a later release). One write by primary key, a no-op once set.
func (s *Service) keepLegacyLink(ctx context.Context, consumerID int64, uid string) error {
	_, err := s.db.X.ExecContext(ctx, s.db.X.Rebind(
		`UPDATE consumers SET firebase_uid = ? WHERE id = ? AND firebase_uid IS NULL`), uid, consumerID)
	err = s.db.Err(ctx, "firebase.keep_legacy_link", err)
	if errors.Is(err, store.ErrConflict) {
		// Another consumer holds the uid in the legacy column: only a previous release running
		// beside this one could have written it. The identity decides here; say so and go on.
		s.log.Warn("legacy firebase_uid held by another consumer", zap.Int64("consumer_id", consumerID))
		return nil
	}
	return err
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
