package store

import (
	"context"
	"time"
)

// PasswordResets is the repository of password reset tokens (stored as hashes only).
type PasswordResets struct{ db *DB }

// NewPasswordResets returns the password reset repository of db.
func NewPasswordResets(db *DB) *PasswordResets { return &PasswordResets{db: db} }

// Create stores a reset token hash for the user, valid until expiresAt, and returns its id;
// ErrReference if the user does not exist.
func (r *PasswordResets) Create(ctx context.Context, userID int64, tokenHash string, expiresAt time.Time) (int64, error) {
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO password_resets (user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
		userID, tokenHash, dbTime(expiresAt), r.db.now()).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, "password_resets.create", err)
	}
	return id, nil
}

// Consume marks the token used and returns its user, provided it exists, is unused and has not
// expired at now; otherwise ErrNotFound. A single conditional UPDATE makes it single-use even
// under concurrent attempts.
func (r *PasswordResets) Consume(ctx context.Context, tokenHash string, now time.Time) (int64, error) {
	now = dbTime(now)
	var userID int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`UPDATE password_resets SET used_at = ?
		 WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`),
		now, tokenHash, now).Scan(&userID)
	if err != nil {
		return 0, r.db.mapErr(ctx, "password_resets.consume", err)
	}
	return userID, nil
}

// CountSince returns how many reset tokens were created for the user at or after since (quota).
func (r *PasswordResets) CountSince(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT count(*) FROM password_resets WHERE user_id = ? AND created_at >= ?`),
		userID, dbTime(since)).Scan(&n)
	if err != nil {
		return 0, r.db.mapErr(ctx, "password_resets.count_since", err)
	}
	return n, nil
}

// DeleteForUser removes all of the user's reset tokens, used or not.
func (r *PasswordResets) DeleteForUser(ctx context.Context, userID int64) error {
	_, err := r.db.X.ExecContext(ctx, r.db.rebind(`DELETE FROM password_resets WHERE user_id = ?`), userID)
	return r.db.mapErr(ctx, "password_resets.delete_for_user", err)
}
