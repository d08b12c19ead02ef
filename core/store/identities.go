package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Identities links consumers to their identities at external identity providers: (issuer,
// subject) as the provider's verified token states them.
type Identities struct{ db *DB }

// NewIdentities returns the identities repository of db.
func NewIdentities(db *DB) *Identities { return &Identities{db: db} }

// errLostRace says a concurrent sign-in linked the identity first; the caller looks it up again.
var errLostRace = errors.New("store: identity linked concurrently")

// Touch records a sign-in of a linked identity and returns its consumer's id, or ErrNotFound.
func (r *Identities) Touch(ctx context.Context, issuer, subject string) (int64, error) {
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`UPDATE identities SET last_seen_at = ? WHERE issuer = ? AND subject = ? RETURNING consumer_id`),
		r.db.now(), issuer, subject).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, "identities.touch", err)
	}
	return id, nil
}

// Link links (issuer, subject) to an existing consumer and returns the consumer the identity is
// linked to: consumerID, or the one a concurrent sign-in linked it to first.
func (r *Identities) Link(ctx context.Context, issuer, subject string, consumerID int64) (int64, error) {
	if err := checkIdentity(issuer, subject); err != nil {
		return 0, err
	}
	now := r.db.now()
	var linked int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO identities (issuer, subject, consumer_id, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (issuer, subject) DO NOTHING RETURNING consumer_id`),
		issuer, subject, consumerID, now, now).Scan(&linked)
	if err == nil {
		return linked, nil
	}
	if err = r.db.mapErr(ctx, "identities.link", err); !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	return r.Touch(ctx, issuer, subject)
}

// Create makes a new consumer with the given phone and e-mail (nil for none) and links (issuer,
// subject) to it, in one transaction: either both exist afterwards or neither. When a concurrent
// sign-in linked the identity first, nothing is created and the result is that consumer's id with
// created false. A phone number another consumer holds is ErrConflict.
func (r *Identities) Create(ctx context.Context, issuer, subject string, phone, email *string) (id int64, created bool, err error) {
	if err := checkIdentity(issuer, subject); err != nil {
		return 0, false, err
	}
	for range 2 {
		id, err = r.create(ctx, issuer, subject, phone, email)
		if !errors.Is(err, errLostRace) {
			return id, err == nil, err
		}
		if id, err = r.Touch(ctx, issuer, subject); !errors.Is(err, ErrNotFound) {
			return id, false, err
		}
	}
	// Identities are never deleted, so one seen by the INSERT is there for the lookup.
	return 0, false, fmt.Errorf("store: identities.create: identity vanished during sign-in")
}

func (r *Identities) create(ctx context.Context, issuer, subject string, phone, email *string) (int64, error) {
	const op = "identities.create"
	tx, err := r.db.X.BeginTxx(ctx, nil)
	if err != nil {
		return 0, r.db.mapErr(ctx, op, err)
	}
	defer func() { _ = tx.Rollback() }()
	now := r.db.now()
	var id int64
	err = tx.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO consumers (phone, email, created_at, last_login_at) VALUES (?, ?, ?, ?) RETURNING id`),
		phone, email, now, now).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, op, err)
	}
	var linked int64
	err = tx.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO identities (issuer, subject, consumer_id, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (issuer, subject) DO NOTHING RETURNING consumer_id`),
		issuer, subject, id, now, now).Scan(&linked)
	if errors.Is(err, sql.ErrNoRows) {
		// The rollback takes the consumer back with it: no one is left without an identity.
		return 0, errLostRace
	}
	if err != nil {
		return 0, r.db.mapErr(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, r.db.mapErr(ctx, op, err)
	}
	return id, nil
}

// Consumer returns the consumer linked to (issuer, subject), or ErrNotFound.
func (r *Identities) Consumer(ctx context.Context, issuer, subject string) (int64, error) {
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT consumer_id FROM identities WHERE issuer = ? AND subject = ?`), issuer, subject).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, "identities.consumer", err)
	}
	return id, nil
}

func checkIdentity(issuer, subject string) error {
	if issuer == "" || subject == "" {
		return errors.New("store: identities: empty issuer or subject")
	}
	return nil
}
