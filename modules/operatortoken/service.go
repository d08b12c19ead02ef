package operatortoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

const (
	// TokenPrefix makes operator session tokens recognisable (in /tokens/verify, in leaked-secret
	// scanners). The rest is 256 random bits, base64url.
	TokenPrefix = "ost_"
	tokenLen    = len(TokenPrefix) + 43

	// TypeOperatorSession is the "type" /tokens/verify reports for these tokens.
	TypeOperatorSession = "operator_session"

	// sealPurpose binds the sealed token to its column: no other sealed secret opens here.
	sealPurpose = "operator_session"

	maxDevMAC = 64
)

// Device types of the legacy mobile apps.
const (
	DevPOS      = "POS"
	DevReport   = "REPORT"
	DevFastpass = "FASTPASS"
	DevKids     = "KIDS"
	DevDispatch = "DISPATCH"
)

// modeDevTypes is the legacy role matrix: an operator whose mode is listed may only use that
// device type; every other mode is a POS operator.
var modeDevTypes = map[int]string{3: DevReport, 4: DevFastpass, 5: DevKids, 6: DevDispatch}

// DevTypeOf returns the one device type an operator of mode may sign in on.
func DevTypeOf(mode int) string {
	if t, ok := modeDevTypes[mode]; ok {
		return t
	}
	return DevPOS
}

// Allowed is the legacy matrix: POS → mode not in {3,4,5,6}; REPORT → 3; FASTPASS → 4;
// KIDS → 5; DISPATCH → 6.
func Allowed(devType string, mode int) bool { return DevTypeOf(mode) == devType }

// ErrBadCredentials covers a wrong password, an unknown e-mail, an account that is not an
// operator and a device type the operator's mode does not allow: the client sees one answer.
var ErrBadCredentials = core.ErrBadCredentials

// LockedError says the account is locked after repeated failures.
type LockedError = core.LockedError

// Session is a successful operator login.
type Session struct {
	UserID  int64
	EventID *int64
	Email   string
	Token   string
	Mode    int
	DevType string
}

// Service checks operator credentials and hands out their persistent session token.
type Service struct {
	creds  *core.StaffPasswords
	users  *store.Users
	sealer *core.Sealer
	log    *zap.Logger
}

// NewService builds the lane's service.
func NewService(creds *core.StaffPasswords, users *store.Users, keys core.Keys, log *zap.Logger) *Service {
	return &Service{creds: creds, users: users, sealer: keys.Sealer(sealPurpose), log: log.Named("operator_token")}
}

// Login checks the operator's e-mail, password and device type and returns the session token,
// creating it only when the operator has none. Failures count towards the same per-account
// lock as POST /auth/login, and unknown e-mails cost the same hashing.
func (s *Service) Login(ctx context.Context, email, password, devType, devMAC string) (Session, error) {
	v, err := s.creds.Check(ctx, email, password)
	if err != nil {
		return Session{}, err
	}
	u := v.User
	// The password was right: a role or device-type mismatch is refused with the same answer
	// but is no guess, so it neither counts towards nor clears the lock.
	if u.Role != store.RoleOperator || !Allowed(devType, u.Mode) {
		return Session{}, v.Refuse(ctx)
	}
	if err := v.Accept(ctx); err != nil {
		return Session{}, err
	}
	tok, err := s.sessionToken(ctx, u)
	if err != nil {
		return Session{}, err
	}
	// Recording the device is bookkeeping: its failure must not refuse a valid login.
	if err := s.users.SetLastDevMAC(ctx, u.ID, CleanMAC(devMAC)); err != nil {
		s.log.Warn("recording the operator's device failed", zap.Int64("user_id", u.ID), zap.Error(err))
	}
	return Session{UserID: u.ID, EventID: u.EventID, Email: u.Email, Token: tok, Mode: u.Mode, DevType: devType}, nil
}

// sessionToken returns the operator's stored token, or creates one when there is none. Of
// concurrent first logins one stores its token and the others read that one back, so every
// device of the operator holds the same token, as on the legacy platform.
func (s *Service) sessionToken(ctx context.Context, u store.User) (string, error) {
	for range 3 {
		if u.SessionTokenHash == nil {
			tok, hash, sealed, err := s.newToken()
			if err != nil {
				return "", err
			}
			set, err := s.users.SetSessionTokenIfEmpty(ctx, u.ID, hash, sealed)
			if err != nil {
				return "", fmt.Errorf("operatortoken: store token: %w", err)
			}
			if set {
				return tok, nil
			}
			if u, err = s.users.ByID(ctx, u.ID); err != nil {
				return "", fmt.Errorf("operatortoken: reload user: %w", err)
			}
			continue
		}
		if u.SessionTokenSealed != nil {
			tok, err := s.sealer.Open(*u.SessionTokenSealed)
			if err == nil && HashToken(tok) == *u.SessionTokenHash {
				return tok, nil
			}
		}
		// A token that cannot be read back (sealed under another key, or a hash without its
		// sealed copy) can never be handed out again: replace it.
		s.log.Warn("stored operator session token is unreadable; issuing a new one", zap.Int64("user_id", u.ID))
		tok, hash, sealed, err := s.newToken()
		if err != nil {
			return "", err
		}
		if err := s.users.SetSessionToken(ctx, u.ID, hash, sealed); err != nil {
			return "", fmt.Errorf("operatortoken: replace token: %w", err)
		}
		return tok, nil
	}
	return "", errors.New("operatortoken: session token kept changing under concurrent logins")
}

func (s *Service) newToken() (tok, hash, sealed string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("operatortoken: random: %w", err)
	}
	tok = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	// Under the raw key, as the previous release seals it: rolled back to, it still hands out
	// the tokens this one issued (users.session_token_sealed is the core's, read by both).
	sealed, err = s.sealer.SealLegacy(tok)
	if err != nil {
		return "", "", "", err
	}
	return tok, HashToken(tok), sealed, nil
}

// HashToken is how a session token is looked up: hex SHA-256. The token carries 256 random
// bits, so a fast hash is enough; only this hash and an AES-GCM sealed copy are stored.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// CleanMAC is the dev_mac as recorded: normalised when it is a MAC address, otherwise as given
// (legacy devices send other identifiers) without control characters, at most 64 characters.
// What is left once control characters are gone is tried as a MAC too, so "AA:…:F\x00F" is
// recorded as the MAC it spells, in the form every other MAC is (found by FuzzCleanMAC).
func CleanMAC(mac string) string {
	if norm, ok := store.NormalizeMAC(mac); ok {
		return norm
	}
	var b strings.Builder
	n := 0
	for _, r := range mac {
		if n == maxDevMAC {
			break
		}
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			n++
		}
	}
	if norm, ok := store.NormalizeMAC(b.String()); ok {
		return norm
	}
	return b.String()
}
