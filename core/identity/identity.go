// Package identity signs consumers in through external identity providers (Firebase, OpenID
// Connect, ...): a lane verifies the provider's token and hands over what it proves, the issuer
// and subject; this service finds or creates the consumer linked to them and starts the session.
// Lanes share consumers through it: two lanes trusting the same issuer meet the same person.
package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	coreauth "github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// Claims are what a verified provider token proves.
type Claims struct {
	// Issuer and Subject are the token's iss and sub, exactly: the identity's key.
	Issuer, Subject string
	// Phone (E.164) and Email are copied onto the consumer when non-nil. A lane passes a phone
	// only when the provider verified it and the tenant opted in: the phone OTP lane signs in
	// whoever holds the number's consumer.
	Phone, Email *string
	// Legacy finds the consumer a lane linked this identity to before identities existed, so
	// the first sign-in after an upgrade links it instead of creating a second consumer.
	// Optional.
	Legacy func(ctx context.Context) (consumerID int64, found bool, err error)
}

// Result is a successful sign-in.
type Result struct {
	Pair     sessions.Pair
	Consumer store.Consumer
	Created  bool
	// PhoneConflict says the claimed phone number belongs to another consumer and was not
	// copied: accounts are not merged as a side effect of a login.
	PhoneConflict bool
}

// Service signs consumers in by identity.
type Service struct {
	identities *store.Identities
	consumers  *store.Consumers
	sessions   *sessions.Service
}

// New builds the service.
func New(identities *store.Identities, consumers *store.Consumers, s *sessions.Service) *Service {
	return &Service{identities: identities, consumers: consumers, sessions: s}
}

// SignIn finds the consumer linked to the claims' identity — or the lane's legacy link, or a new
// consumer — records the sign-in and starts a consumer session.
func (s *Service) SignIn(ctx context.Context, c Claims) (Result, error) {
	if c.Issuer == "" || c.Subject == "" {
		return Result{}, errors.New("identity: a verified token without issuer or subject")
	}
	var res Result
	id, created, err := s.consumerOf(ctx, c)
	if errors.Is(err, store.ErrConflict) && c.Phone != nil {
		res.PhoneConflict = true
		c.Phone = nil
		id, created, err = s.consumerOf(ctx, c)
	}
	if err != nil {
		return Result{}, fmt.Errorf("identity: consumer: %w", err)
	}
	res.Created = created
	if created {
		res.Consumer, err = s.consumers.ByID(ctx, id)
	} else {
		res.Consumer, err = s.consumers.SignedIn(ctx, id, c.Phone, c.Email)
		if errors.Is(err, store.ErrConflict) && c.Phone != nil {
			res.PhoneConflict = true
			res.Consumer, err = s.consumers.SignedIn(ctx, id, nil, c.Email)
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("identity: consumer: %w", err)
	}
	res.Pair, err = s.sessions.Start(ctx, sessions.Principal{Subject: strconv.FormatInt(res.Consumer.ID, 10), Role: coreauth.RoleConsumer})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// consumerOf returns the id of the consumer the identity is linked to, linking or creating it.
func (s *Service) consumerOf(ctx context.Context, c Claims) (id int64, created bool, err error) {
	id, err = s.identities.Touch(ctx, c.Issuer, c.Subject)
	if !errors.Is(err, store.ErrNotFound) {
		return id, false, err
	}
	if c.Legacy != nil {
		legacy, found, err := c.Legacy(ctx)
		if err != nil {
			return 0, false, err
		}
		if found {
			id, err = s.identities.Link(ctx, c.Issuer, c.Subject, legacy)
			return id, false, err
		}
	}
	id, created, err = s.identities.Create(ctx, c.Issuer, c.Subject, c.Phone, c.Email)
	if errors.Is(err, store.ErrConflict) {
		// The phone may be held by a concurrent first sign-in of this same identity, which
		// PostgreSQL reports as a conflict on the phone before the identity's own: if the
		// identity is linked now, that was it.
		if linked, terr := s.identities.Touch(ctx, c.Issuer, c.Subject); terr == nil {
			return linked, false, nil
		}
	}
	return id, created, err
}
