package offline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Refusals of an issuance request; the handler maps each to its status.
var (
	ErrForbidden      = errors.New("offline: event not accessible to the caller")
	ErrEventNotFound  = errors.New("offline: unknown event")
	ErrDeviceNotFound = errors.New("offline: device not registered for the event")
)

// Issued is an offline token and what it is bound to.
type Issued struct {
	Token     string
	ExpiresAt time.Time
	EventID   int64
	DeviceID  *int64
}

// Service issues offline tokens.
type Service struct {
	tok     *tokens.Service
	events  *store.Events
	devices *store.Devices
	ttl     time.Duration
}

// NewService builds the service; the lifetime is jwt.offline_ttl (72 h by default).
func NewService(tok *tokens.Service, events *store.Events, devices *store.Devices, cfg config.Core) *Service {
	return &Service{tok: tok, events: events, devices: devices, ttl: cfg.JWT.OfflineTTL}
}

// CanAccess reports whether the caller may act on eventID: admins on every event, operators
// and network managers only on the event their token is bound to.
func CanAccess(caller *tokens.Claims, eventID int64) bool {
	switch caller.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleOperator, auth.RoleNetworkManager:
		return caller.EventID != nil && *caller.EventID == eventID
	}
	return false
}

// Issue signs an offline token for the caller (sub, role and sid are the caller's) bound to
// eventID and, when given, to deviceID, which must be a live device of that event. Access is checked
// before existence, so callers of another event learn nothing about it.
func (s *Service) Issue(ctx context.Context, caller *tokens.Claims, eventID int64, deviceID *int64) (Issued, error) {
	if !CanAccess(caller, eventID) {
		return Issued{}, ErrForbidden
	}
	ok, err := s.events.Exists(ctx, eventID)
	if err != nil {
		return Issued{}, fmt.Errorf("offline: load event: %w", err)
	}
	if !ok {
		return Issued{}, ErrEventNotFound
	}
	if deviceID != nil {
		d, err := s.devices.ByID(ctx, *deviceID)
		if errors.Is(err, store.ErrNotFound) {
			return Issued{}, ErrDeviceNotFound
		}
		if err != nil {
			return Issued{}, fmt.Errorf("offline: load device: %w", err)
		}
		if d.EventID != eventID || d.Archived {
			return Issued{}, ErrDeviceNotFound
		}
	}
	// The caller's session: the token ends with it (logout, revocation of the session), so a
	// stolen access token cannot become an offline token that outlives the session it came from.
	tok, c, err := s.tok.Issue(tokens.Claims{
		Subject:  caller.Subject,
		Type:     tokens.TypeOffline,
		Role:     caller.Role,
		EventID:  &eventID,
		DeviceID: deviceID,
		Session:  caller.Session,
	}, s.ttl)
	if err != nil {
		return Issued{}, err
	}
	return Issued{Token: tok, ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC(), EventID: eventID, DeviceID: deviceID}, nil
}
