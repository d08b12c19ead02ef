package store

import (
	"context"
	"database/sql"
	"errors"
)

// Kinds of subject a not-before time applies to.
const (
	SubjectUser   = "user"   // a staff user (admin, operator, network manager)
	SubjectDevice = "device" // a POS device
)

// TokenNotBefore is the repository of per-subject "not before" times, the revocation
// primitive of docs/contract/NOTES.md: tokens of a subject issued at or before its time (unix
// seconds) are refused. Times only move forward.
type TokenNotBefore struct{ db *DB }

// NewTokenNotBefore returns the not-before repository of db.
func NewTokenNotBefore(db *DB) *TokenNotBefore { return &TokenNotBefore{db: db} }

// Get returns the subject's not-before time in unix seconds, 0 when none was ever set.
func (r *TokenNotBefore) Get(ctx context.Context, kind string, id int64) (int64, error) {
	var t int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT not_before FROM token_not_before WHERE kind = ? AND subject_id = ?`), kind, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, r.db.mapErr(ctx, "token_not_before.get", err)
	}
	return t, nil
}

// Raise sets the subject's not-before time to t unless it is already later, and returns the
// time in force.
func (r *TokenNotBefore) Raise(ctx context.Context, kind string, id, t int64) (int64, error) {
	var got int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO token_not_before (kind, subject_id, not_before, updated_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (kind, subject_id) DO UPDATE SET
		   not_before = CASE WHEN excluded.not_before > token_not_before.not_before
		                     THEN excluded.not_before ELSE token_not_before.not_before END,
		   updated_at = excluded.updated_at
		 RETURNING not_before`),
		kind, id, t, r.db.now()).Scan(&got)
	if err != nil {
		return 0, r.db.mapErr(ctx, "token_not_before.raise", err)
	}
	return got, nil
}
