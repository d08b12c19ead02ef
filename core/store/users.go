package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Staff roles, as stored in users.role.
const (
	RoleAdmin          = "admin"
	RoleOperator       = "operator"
	RoleNetworkManager = "network_manager"
)

// User is a staff account (admin, operator or network manager).
type User struct {
	ID           int64
	Email        string // lower-cased and trimmed
	PasswordHash string
	Role         string
	EventID      *int64 // event the account is bound to; nil for unbound (e.g. admins)
	Mode         int    // legacy operator mode, see POST /devices/operator-token

	// SessionTokenHash identifies the legacy persistent operator token; SessionTokenSealed is the
	// same token encrypted so that it can be handed out again. Both nil when no token exists.
	SessionTokenHash   *string
	SessionTokenSealed *string
	LastDevMAC         *string

	// DisabledAt is when the account was disabled (users disable); nil while enabled.
	DisabledAt *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// disabledMark starts the password hash of a disabled account, as "!" locks one in /etc/shadow:
// no verifier accepts such a hash, v0.1.0's included (migration 00004_users_disabled).
const disabledMark = "!"

// Disabled reports whether the account is disabled. The hash's mark counts too: a release that
// knows no disabled_at (v0.1.0 after a rollback) may have left only the mark, or the reverse.
func (u User) Disabled() bool {
	return u.DisabledAt != nil || strings.HasPrefix(u.PasswordHash, disabledMark)
}

// NewUser holds the fields of a user to create.
type NewUser struct {
	Email        string
	PasswordHash string
	Role         string
	EventID      *int64
	Mode         int
}

// Users is the staff users repository.
type Users struct{ db *DB }

// NewUsers returns the users repository of db.
func NewUsers(db *DB) *Users { return &Users{db: db} }

// NormalizeEmail returns email as the store keeps and compares it.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidRole reports whether role is one of the staff roles.
func ValidRole(role string) bool {
	switch role {
	case RoleAdmin, RoleOperator, RoleNetworkManager:
		return true
	}
	return false
}

const userColumns = `id, email, password_hash, role, event_id, mode,
	session_token_hash, session_token_sealed, last_dev_mac, disabled_at, created_at, updated_at`

func scanUser(row rowScanner) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.EventID, &u.Mode,
		&u.SessionTokenHash, &u.SessionTokenSealed, &u.LastDevMAC, nullTimeCol{&u.DisabledAt},
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	return u, err
}

// Create inserts a user and returns its id; ErrConflict if the e-mail exists in any letter case,
// ErrReference if EventID names no event.
func (r *Users) Create(ctx context.Context, nu NewUser) (int64, error) {
	email := NormalizeEmail(nu.Email)
	if email == "" {
		return 0, fmt.Errorf("store: users.create: empty e-mail")
	}
	if !ValidRole(nu.Role) {
		return 0, fmt.Errorf("store: users.create: unknown role %q", nu.Role)
	}
	now := r.db.now()
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO users (email, password_hash, role, event_id, mode, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		email, nu.PasswordHash, nu.Role, nu.EventID, nu.Mode, now, now).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, "users.create", err)
	}
	return id, nil
}

// ByEmail returns the user with email, compared case-insensitively, or ErrNotFound.
func (r *Users) ByEmail(ctx context.Context, email string) (User, error) {
	// lower(email) matches the unique index, so the lookup is indexed on both engines.
	u, err := scanUser(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+userColumns+` FROM users WHERE lower(email) = ?`), NormalizeEmail(email)))
	if err != nil {
		return User{}, r.db.mapErr(ctx, "users.by_email", err)
	}
	return u, nil
}

// ByID returns the user with id, or ErrNotFound.
func (r *Users) ByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+userColumns+` FROM users WHERE id = ?`), id))
	if err != nil {
		return User{}, r.db.mapErr(ctx, "users.by_id", err)
	}
	return u, nil
}

// BySessionTokenHash returns the user holding the legacy session token with hash, or ErrNotFound.
func (r *Users) BySessionTokenHash(ctx context.Context, hash string) (User, error) {
	u, err := scanUser(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+userColumns+` FROM users WHERE session_token_hash = ?`), hash))
	if err != nil {
		return User{}, r.db.mapErr(ctx, "users.by_session_token_hash", err)
	}
	return u, nil
}

// CountByRole returns how many users hold role.
func (r *Users) CountByRole(ctx context.Context, role string) (int, error) {
	var n int
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT count(*) FROM users WHERE role = ?`), role).Scan(&n)
	if err != nil {
		return 0, r.db.mapErr(ctx, "users.count_by_role", err)
	}
	return n, nil
}

// UserFilter selects users for List; a nil field selects every value.
type UserFilter struct {
	Role     *string
	EventID  *int64
	Disabled *bool
}

// List returns the users that f selects, by id.
func (r *Users) List(ctx context.Context, f UserFilter) ([]User, error) {
	query := `SELECT ` + userColumns + ` FROM users WHERE 1 = 1`
	var args []any
	if f.Role != nil {
		query += ` AND role = ?`
		args = append(args, *f.Role)
	}
	if f.EventID != nil {
		query += ` AND event_id = ?`
		args = append(args, *f.EventID)
	}
	if f.Disabled != nil {
		if *f.Disabled {
			query += ` AND disabled_at IS NOT NULL`
		} else {
			query += ` AND disabled_at IS NULL`
		}
	}
	rows, err := r.db.X.QueryContext(ctx, r.db.rebind(query+` ORDER BY id`), args...)
	if err != nil {
		return nil, r.db.mapErr(ctx, "users.list", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, r.db.mapErr(ctx, "users.list", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, r.db.mapErr(ctx, "users.list", err)
	}
	return out, nil
}

// Disable disables the user: disabled_at is set (kept if it was) and the hash marked, so no
// release logs it in (migration 00004_users_disabled). Ending what it holds is the caller's
// (core.Revoker.RevokeUser). ErrNotFound for an unknown user.
func (r *Users) Disable(ctx context.Context, id int64) error {
	return r.update(ctx, "users.disable",
		`UPDATE users SET updated_at = ?, disabled_at = COALESCE(disabled_at, ?),
		 password_hash = CASE WHEN substr(password_hash, 1, 1) = '`+disabledMark+`' THEN password_hash
		                      ELSE '`+disabledMark+`' || password_hash END
		 WHERE id = ?`, r.db.now(), id)
}

// Enable undoes Disable: the user logs in again with the password it had. Enabling an enabled
// user changes nothing. ErrNotFound for an unknown user.
func (r *Users) Enable(ctx context.Context, id int64) error {
	return r.update(ctx, "users.enable",
		`UPDATE users SET updated_at = ?, disabled_at = NULL,
		 password_hash = CASE WHEN substr(password_hash, 1, 1) = '`+disabledMark+`' THEN substr(password_hash, 2)
		                      ELSE password_hash END
		 WHERE id = ?`, id)
}

// SetEvent binds the user to eventID, or unbinds it (nil). ErrNotFound for an unknown user,
// ErrReference for an unknown event.
func (r *Users) SetEvent(ctx context.Context, id int64, eventID *int64) error {
	return r.update(ctx, "users.set_event",
		`UPDATE users SET updated_at = ?, event_id = ? WHERE id = ?`, eventID, id)
}

// update runs an UPDATE of one user that also bumps updated_at (its first placeholder) and
// returns ErrNotFound when no row matched.
func (r *Users) update(ctx context.Context, op, query string, args ...any) error {
	res, err := r.db.X.ExecContext(ctx, r.db.rebind(query), append([]any{r.db.now()}, args...)...)
	if err != nil {
		return r.db.mapErr(ctx, op, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return r.db.mapErr(ctx, op, err)
	}
	if !ok {
		return r.db.mapErr(ctx, op, errNoRows)
	}
	return nil
}

// UpdatePasswordHash replaces the user's password hash. A disabled user stays disabled: the
// database keeps the new hash marked (migration 00004_users_disabled).
func (r *Users) UpdatePasswordHash(ctx context.Context, id int64, hash string) error {
	return r.update(ctx, "users.update_password_hash",
		`UPDATE users SET updated_at = ?, password_hash = ? WHERE id = ?`, hash, id)
}

// SetSessionToken stores a legacy session token (its hash and sealed form), replacing any other.
func (r *Users) SetSessionToken(ctx context.Context, id int64, hash, sealed string) error {
	return r.update(ctx, "users.set_session_token",
		`UPDATE users SET updated_at = ?, session_token_hash = ?, session_token_sealed = ? WHERE id = ?`,
		hash, sealed, id)
}

// SetSessionTokenIfEmpty stores a legacy session token only if the user has none and reports
// whether it did. It is a single conditional UPDATE, so concurrent logins cannot create two tokens:
// the loser gets false and should read the winner's token back.
func (r *Users) SetSessionTokenIfEmpty(ctx context.Context, id int64, hash, sealed string) (bool, error) {
	const op = "users.set_session_token_if_empty"
	res, err := r.db.X.ExecContext(ctx, r.db.rebind(
		`UPDATE users SET updated_at = ?, session_token_hash = ?, session_token_sealed = ?
		 WHERE id = ? AND session_token_hash IS NULL`),
		r.db.now(), hash, sealed, id)
	if err != nil {
		return false, r.db.mapErr(ctx, op, err)
	}
	set, err := affectedOne(res)
	if err != nil {
		return false, r.db.mapErr(ctx, op, err)
	}
	if set {
		return true, nil
	}
	if _, err := r.ByID(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// ClearSessionToken removes the user's legacy session token (logout).
func (r *Users) ClearSessionToken(ctx context.Context, id int64) error {
	return r.update(ctx, "users.clear_session_token",
		`UPDATE users SET updated_at = ?, session_token_hash = NULL, session_token_sealed = NULL WHERE id = ?`, id)
}

// SetLastDevMAC records the MAC of the device the user last logged in from.
func (r *Users) SetLastDevMAC(ctx context.Context, id int64, mac string) error {
	return r.update(ctx, "users.set_last_dev_mac",
		`UPDATE users SET updated_at = ?, last_dev_mac = ? WHERE id = ?`, mac, id)
}

// Delete removes the user; their password resets go with them and their devices lose the operator.
func (r *Users) Delete(ctx context.Context, id int64) error {
	const op = "users.delete"
	res, err := r.db.X.ExecContext(ctx, r.db.rebind(`DELETE FROM users WHERE id = ?`), id)
	if err != nil {
		return r.db.mapErr(ctx, op, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return r.db.mapErr(ctx, op, err)
	}
	if !ok {
		return r.db.mapErr(ctx, op, errNoRows)
	}
	return nil
}
