package passwordreset

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationsFS embed.FS

// Migrations are the module's own schema (Plugin.Migrations): the password_resets table.
var Migrations = func() fs.FS {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	return sub
}()

// Resets is the repository of password reset tokens (stored as hashes only), over the module's
// own table. A user's tokens go with the user: the table's foreign key cascades on delete, so
// the core deletes users without knowing this module.
type Resets struct{ db *store.DB }

// NewResets returns the password reset repository of db.
func NewResets(db *store.DB) *Resets { return &Resets{db: db} }

// Create stores a reset token hash for the user, valid until expiresAt, and returns its id;
// store.ErrReference if the user does not exist.
func (r *Resets) Create(ctx context.Context, userID int64, tokenHash string, expiresAt time.Time) (int64, error) {
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.X.Rebind(
		`INSERT INTO password_resets (user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
		userID, tokenHash, store.StoredTime(expiresAt), r.db.Timestamp()).Scan(&id)
	if err != nil {
		return 0, r.db.Err(ctx, "password_resets.create", err)
	}
	return id, nil
}

// Consume marks the token used and returns its user, provided it exists, is unused and has not
// expired at now; otherwise store.ErrNotFound. A single conditional UPDATE makes it single-use
// even under concurrent attempts.
func (r *Resets) Consume(ctx context.Context, tokenHash string, now time.Time) (int64, error) {
	now = store.StoredTime(now)
	var userID int64
	err := r.db.X.QueryRowContext(ctx, r.db.X.Rebind(
		`UPDATE password_resets SET used_at = ?
		 WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`),
		now, tokenHash, now).Scan(&userID)
	if err != nil {
		return 0, r.db.Err(ctx, "password_resets.consume", err)
	}
	return userID, nil
}

// CountSince returns how many reset tokens were created for the user at or after since (quota).
func (r *Resets) CountSince(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	err := r.db.X.QueryRowContext(ctx, r.db.X.Rebind(
		`SELECT count(*) FROM password_resets WHERE user_id = ? AND created_at >= ?`),
		userID, store.StoredTime(since)).Scan(&n)
	if err != nil {
		return 0, r.db.Err(ctx, "password_resets.count_since", err)
	}
	return n, nil
}

// DeleteForUser removes all of the user's reset tokens, used or not.
func (r *Resets) DeleteForUser(ctx context.Context, userID int64) error {
	_, err := r.db.X.ExecContext(ctx, r.db.X.Rebind(`DELETE FROM password_resets WHERE user_id = ?`), userID)
	return r.db.Err(ctx, "password_resets.delete_for_user", err)
}
