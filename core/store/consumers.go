package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Consumer is an end user who logs in by phone OTP or through an identity provider (Identities).
type Consumer struct {
	ID          int64
	Phone       *string // E.164
	Email       *string
	CreatedAt   time.Time
	LastLoginAt time.Time
}

// Consumers is the consumers repository.
type Consumers struct{ db *DB }

// NewConsumers returns the consumers repository of db.
func NewConsumers(db *DB) *Consumers { return &Consumers{db: db} }

const consumerColumns = `id, phone, email, created_at, last_login_at`

func scanConsumer(row rowScanner) (Consumer, error) {
	var c Consumer
	err := row.Scan(&c.ID, &c.Phone, &c.Email,
		timeCol{&c.CreatedAt}, timeCol{&c.LastLoginAt})
	return c, err
}

// ByID returns the consumer with id, or ErrNotFound.
func (r *Consumers) ByID(ctx context.Context, id int64) (Consumer, error) {
	c, err := scanConsumer(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+consumerColumns+` FROM consumers WHERE id = ?`), id))
	if err != nil {
		return Consumer{}, r.db.mapErr(ctx, "consumers.by_id", err)
	}
	return c, nil
}

// UpsertByPhone records a successful login by the E.164 phone number, creating the consumer on
// first use, and reports whether it was created. Concurrent first logins yield one row.
func (r *Consumers) UpsertByPhone(ctx context.Context, phone string) (Consumer, bool, error) {
	now := r.db.now()
	return r.upsert(ctx, "consumers.upsert_by_phone",
		`UPDATE consumers SET last_login_at = ? WHERE phone = ? RETURNING `+consumerColumns,
		[]any{now, phone},
		`INSERT INTO consumers (phone, created_at, last_login_at) VALUES (?, ?, ?)
		 ON CONFLICT (phone) DO NOTHING RETURNING `+consumerColumns,
		[]any{phone, now, now})
}

// SignedIn records a sign-in of consumer id through an identity provider: non-nil phone and
// e-mail claims replace the stored ones, nil keeps them. A phone number another consumer holds is
// ErrConflict: linking two accounts is a decision for a person, not a side effect of a login.
func (r *Consumers) SignedIn(ctx context.Context, id int64, phone, email *string) (Consumer, error) {
	c, err := scanConsumer(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`UPDATE consumers SET phone = COALESCE(?, phone), email = COALESCE(?, email), last_login_at = ?
		 WHERE id = ? RETURNING `+consumerColumns), phone, email, r.db.now(), id))
	if err != nil {
		return Consumer{}, r.db.mapErr(ctx, "consumers.signed_in", err)
	}
	return c, nil
}

// upsert tries the update first, since returning consumers are the common case and a failed
// INSERT ... ON CONFLICT would burn a PostgreSQL sequence value on every login. If the row is
// missing it inserts with DO NOTHING; an empty result then means a concurrent login inserted it
// first, and the update is retried.
//
// A conflict on another unique column (the phone of a Firebase login) may also be a concurrent
// first login of the same identity: PostgreSQL checks the ON CONFLICT column before inserting,
// so two racing INSERTs can both pass that check and the second then trips over the first's
// phone. The retried update tells the two apart: it finds the row when it was the same identity,
// and the conflict stands when another consumer holds the phone.
func (r *Consumers) upsert(ctx context.Context, op, update string, updateArgs []any, insert string, insertArgs []any) (Consumer, bool, error) {
	var conflict error
	for range 2 {
		c, err := scanConsumer(r.db.X.QueryRowContext(ctx, r.db.rebind(update), updateArgs...))
		if err == nil {
			return c, false, nil
		}
		if err = r.db.mapErr(ctx, op, err); !errors.Is(err, ErrNotFound) {
			return Consumer{}, false, err
		}
		c, err = scanConsumer(r.db.X.QueryRowContext(ctx, r.db.rebind(insert), insertArgs...))
		if err == nil {
			return c, true, nil
		}
		err = r.db.mapErr(ctx, op, err)
		switch {
		case errors.Is(err, ErrConflict):
			conflict = err
		case !errors.Is(err, ErrNotFound):
			return Consumer{}, false, err
		}
	}
	if conflict != nil {
		return Consumer{}, false, conflict
	}
	// Consumers are never deleted, so a row seen by the INSERT is still there for the UPDATE.
	return Consumer{}, false, fmt.Errorf("store: %s: row vanished during upsert", op)
}
