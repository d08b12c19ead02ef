package device

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Outcomes other than success. ErrNotRecognised covers every reason a device may not log in
// (malformed or unknown MAC, archived, no operator), so MAC scanning learns nothing.
var (
	ErrNotRecognised  = errors.New("device: not recognised")
	ErrDeviceNotFound = errors.New("device: unknown device")
	ErrArchived       = errors.New("device: device archived")
	ErrForbidden      = errors.New("device: event not accessible to the caller")
	ErrNotOperator    = errors.New("device: not an operator of the device's event")
)

// Token is a device's offline token and what it is bound to.
type Token struct {
	Token      string
	ExpiresAt  time.Time
	EventID    int64
	DeviceID   int64
	OperatorID int64
}

// Service authenticates devices and issues their offline tokens.
type Service struct {
	tok     *tokens.Service
	devices *store.Devices
	users   *store.Users
	ttl     time.Duration
}

// NewService builds the lane's service; tokens live jwt.offline_ttl (72 h by default).
func NewService(tok *tokens.Service, devices *store.Devices, users *store.Users, cfg config.Core) *Service {
	return &Service{tok: tok, devices: devices, users: users, ttl: cfg.JWT.OfflineTTL}
}

// Find returns the live (not archived) device of eventID with mac, whatever case and
// separators mac is spelt with; ErrNotRecognised otherwise, a malformed MAC included.
func (s *Service) Find(ctx context.Context, mac string, eventID int64) (store.Device, error) {
	norm, ok := store.NormalizeMAC(mac)
	if !ok {
		return store.Device{}, ErrNotRecognised
	}
	d, err := s.devices.ByEventAndMAC(ctx, eventID, norm)
	if errors.Is(err, store.ErrNotFound) {
		return store.Device{}, ErrNotRecognised
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("device: load device: %w", err)
	}
	if d.Archived {
		return store.Device{}, ErrNotRecognised
	}
	return d, nil
}

// Login authenticates a device by MAC and event. The device must be live and associated with
// an account that is still an operator of its event; the token carries that operator.
func (s *Service) Login(ctx context.Context, mac string, eventID int64) (Token, error) {
	d, err := s.Find(ctx, mac, eventID)
	if err != nil {
		return Token{}, err
	}
	if d.OperatorID == nil {
		return Token{}, ErrNotRecognised
	}
	if err := s.checkOperator(ctx, *d.OperatorID, d.EventID); errors.Is(err, ErrNotOperator) {
		return Token{}, ErrNotRecognised
	} else if err != nil {
		return Token{}, err
	}
	return s.issue(d, *d.OperatorID)
}

// IssueFor associates operatorID with the device and returns the device's offline token. The
// caller must be an admin, or an operator whose token is bound to the device's event.
func (s *Service) IssueFor(ctx context.Context, caller *tokens.Claims, deviceID, operatorID int64) (Token, error) {
	d, err := s.devices.ByID(ctx, deviceID)
	if errors.Is(err, store.ErrNotFound) {
		return Token{}, ErrDeviceNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("device: load device: %w", err)
	}
	if !canAccess(caller, d.EventID) {
		return Token{}, ErrForbidden
	}
	if d.Archived {
		return Token{}, ErrArchived
	}
	if err := s.checkOperator(ctx, operatorID, d.EventID); err != nil {
		return Token{}, err
	}
	if err := s.devices.SetOperator(ctx, d.ID, operatorID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Token{}, ErrDeviceNotFound
		}
		if errors.Is(err, store.ErrReference) {
			return Token{}, ErrNotOperator
		}
		return Token{}, fmt.Errorf("device: associate operator: %w", err)
	}
	return s.issue(d, operatorID)
}

// canAccess: admins reach every event; operators only the event their token is bound to.
func canAccess(caller *tokens.Claims, eventID int64) bool {
	switch caller.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleOperator:
		return caller.EventID != nil && *caller.EventID == eventID
	}
	return false
}

// checkOperator: the account must hold the operator role and be bound to eventID or to no
// event. An unbound operator's own tokens carry no event (NOTES.md, "Hardening decisions"), but
// it may still be associated with a device: the device token's event is the device's, and only
// an admin or an operator bound to that event associates (canAccess), as before the rule, so
// devices of unbound operators keep logging in after an upgrade.
func (s *Service) checkOperator(ctx context.Context, userID, eventID int64) error {
	u, err := s.users.ByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotOperator
	}
	if err != nil {
		return fmt.Errorf("device: load operator: %w", err)
	}
	// A device whose operator is disabled logs in no more until an admin associates another.
	if u.Role != store.RoleOperator || u.Disabled() || (u.EventID != nil && *u.EventID != eventID) {
		return ErrNotOperator
	}
	return nil
}

func (s *Service) issue(d store.Device, operatorID int64) (Token, error) {
	eventID, deviceID := d.EventID, d.ID
	tok, c, err := s.tok.Issue(tokens.Claims{
		Subject:    strconv.FormatInt(d.ID, 10),
		Type:       tokens.TypeOffline,
		Role:       auth.RoleDevice,
		EventID:    &eventID,
		DeviceID:   &deviceID,
		OperatorID: &operatorID,
	}, s.ttl)
	if err != nil {
		return Token{}, err
	}
	return Token{Token: tok, ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC(), EventID: eventID, DeviceID: deviceID, OperatorID: operatorID}, nil
}
