package mfa

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/auth"
	"github.com/cashlessmedia/cashless-auth/core/store"
)

// migrations are the module's own schema (core.Plugin.Migrations): mfa_factors.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

var migrations = mustSub(migrationFiles, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the directory is embedded at compile time
	}
	return sub
}

// errNoRows is "nothing matched", which store.DB.Err reports as store.ErrNotFound.
var errNoRows = sql.ErrNoRows

// Factors keeps admins' TOTP secrets: the module's mfa_factors table and, until a later release
// contracts them, the users.mfa_* columns the previous release reads and writes. The users
// columns are authoritative while they exist; migrations/*/00001_factors.sql says why and how a
// row is recognised as out of step with them.
type Factors struct {
	db     *store.DB
	sealer *core.Sealer
}

// NewFactors builds the repository; secrets are sealed under the mfa purpose's key.
func NewFactors(db *store.DB, keys core.Keys) *Factors {
	return &Factors{db: db, sealer: keys.Sealer(sealPurpose)}
}

// secondFactors is what the core's routes may ask of the module (GET /admin/me's mfa_enabled).
func secondFactors(f *Factors) auth.SecondFactors { return f }

// Factor is an admin's TOTP state, opened.
type Factor struct {
	Enabled bool
	Secret  string // the active secret; "" if none
	Pending string // a secret awaiting its first verification; "" if none

	// legacyPending is users.mfa_pending_secret_sealed as read: Activate moves exactly this one,
	// not a secret a concurrent setup put in its place.
	legacyPending *string
}

// factorRow is an admin's users.mfa_* columns and mfa_factors row, as stored.
type factorRow struct {
	enabled               bool
	secret, pending       *string
	hasRow, rowEnabled    bool
	rowSecret, rowPending *string
	// rowLegacySecret and rowLegacyPending are the users values the row was written beside.
	rowLegacySecret, rowLegacyPending *string
}

// inStep reports whether the module's row says what the users columns say; a row that does not,
// or is missing, was changed (or not written) by a binary that writes only the users columns.
func (r factorRow) inStep() bool {
	if !r.hasRow {
		return !r.enabled && r.secret == nil && r.pending == nil
	}
	return r.rowEnabled == r.enabled && same(r.rowLegacySecret, r.secret) && same(r.rowLegacyPending, r.pending)
}

func same(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func (f *Factors) read(ctx context.Context, userID int64) (factorRow, error) {
	var r factorRow
	err := f.db.X.QueryRowContext(ctx, f.db.X.Rebind(
		`SELECT u.mfa_enabled, u.mfa_secret_sealed, u.mfa_pending_secret_sealed,
		        f.user_id IS NOT NULL, COALESCE(f.enabled, FALSE), f.secret_sealed, f.pending_secret_sealed,
		        f.legacy_secret_sealed, f.legacy_pending_sealed
		 FROM users u LEFT JOIN mfa_factors f ON f.user_id = u.id WHERE u.id = ?`), userID).Scan(
		&r.enabled, &r.secret, &r.pending, &r.hasRow, &r.rowEnabled, &r.rowSecret, &r.rowPending,
		&r.rowLegacySecret, &r.rowLegacyPending)
	return r, f.db.Err(ctx, "mfa_factors.read", err)
}

// Enabled reports whether the user has an active TOTP secret; ErrNotFound for an unknown user.
func (f *Factors) Enabled(ctx context.Context, userID int64) (bool, error) {
	r, err := f.read(ctx, userID)
	if err != nil {
		return false, err
	}
	return r.enabled, nil // in step, the row's flag is the same
}

// Load returns the user's TOTP state; ErrNotFound for an unknown user. A module row out of step
// with the users columns is not used: the users values are, and the row is rewritten from them
// (sealed under the mfa key), so it is in step again for the release that drops those columns.
func (f *Factors) Load(ctx context.Context, userID int64) (Factor, error) {
	r, err := f.read(ctx, userID)
	if err != nil {
		return Factor{}, err
	}
	fac := Factor{legacyPending: r.pending}
	secret, pending := r.rowSecret, r.rowPending
	if !r.inStep() {
		secret, pending = r.secret, r.pending
	}
	fac.Enabled = r.enabled // in step, the row's flag is the same
	if fac.Secret, err = f.open(secret); err == nil {
		fac.Pending, err = f.open(pending)
	}
	if err != nil || r.inStep() {
		return fac, err
	}
	row, err := f.sealRow(fac, r.secret, r.pending)
	if err != nil {
		return Factor{}, err
	}
	return fac, f.db.Err(ctx, "mfa_factors.resync", f.put(ctx, f.db.X, userID, row))
}

// Setup stores secret as the user's pending one, in both places; ErrNotFound for an unknown user.
func (f *Factors) Setup(ctx context.Context, userID int64, secret string) error {
	const op = "mfa_factors.setup"
	sealed, err := f.sealer.Seal(secret)
	if err != nil {
		return err
	}
	// Under the raw key, which the previous release opens: it reads only this column.
	legacy, err := f.sealer.SealLegacy(secret)
	if err != nil {
		return err
	}
	return f.tx(ctx, op, func(tx *sqlx.Tx, now time.Time) error {
		if err := updateOne(ctx, tx, `UPDATE users SET updated_at = ?, mfa_pending_secret_sealed = ? WHERE id = ?`, now, legacy, userID); err != nil {
			return err
		}
		// Only the pending secret and its copy: the active one, and its copy, stay as they were,
		// so a row that was out of step stays recognisably so.
		_, err := tx.ExecContext(ctx, tx.Rebind(
			`INSERT INTO mfa_factors (user_id, enabled, pending_secret_sealed, legacy_pending_sealed, created_at, updated_at)
			 VALUES (?, FALSE, ?, ?, ?, ?)
			 ON CONFLICT (user_id) DO UPDATE SET pending_secret_sealed = excluded.pending_secret_sealed,
			     legacy_pending_sealed = excluded.legacy_pending_sealed, updated_at = excluded.updated_at`),
			userID, sealed, legacy, now, now)
		return err
	})
}

// Activate makes fac's pending secret (as Load read it) the active one and enables MFA, in both
// places; ErrNotFound if the user no longer has that pending secret.
func (f *Factors) Activate(ctx context.Context, userID int64, fac Factor) error {
	const op = "mfa_factors.activate"
	if fac.legacyPending == nil || fac.Pending == "" {
		return f.db.Err(ctx, op, errNoRows)
	}
	row, err := f.sealRow(Factor{Enabled: true, Secret: fac.Pending}, fac.legacyPending, nil)
	if err != nil {
		return err
	}
	return f.tx(ctx, op, func(tx *sqlx.Tx, now time.Time) error {
		if err := updateOne(ctx, tx,
			`UPDATE users SET updated_at = ?, mfa_secret_sealed = mfa_pending_secret_sealed,
			        mfa_pending_secret_sealed = NULL, mfa_enabled = TRUE
			 WHERE id = ? AND mfa_pending_secret_sealed = ?`, now, userID, *fac.legacyPending); err != nil {
			return err
		}
		return f.put(ctx, tx, userID, row)
	})
}

// sealedRow is a full mfa_factors row to write.
type sealedRow struct {
	enabled                 bool
	secret, pending         *string
	legacySecret, legacyPen *string
}

// sealRow seals fac under the mfa key, beside the users values it mirrors.
func (f *Factors) sealRow(fac Factor, legacySecret, legacyPending *string) (sealedRow, error) {
	row := sealedRow{enabled: fac.Enabled, legacySecret: legacySecret, legacyPen: legacyPending}
	var err error
	if row.secret, err = f.seal(fac.Secret); err != nil {
		return row, err
	}
	row.pending, err = f.seal(fac.Pending)
	return row, err
}

// put writes a full row.
func (f *Factors) put(ctx context.Context, x sqlx.ExecerContext, userID int64, r sealedRow) error {
	now := f.now()
	_, err := x.ExecContext(ctx, f.db.X.Rebind(
		`INSERT INTO mfa_factors (user_id, enabled, secret_sealed, pending_secret_sealed,
		                          legacy_secret_sealed, legacy_pending_sealed, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (user_id) DO UPDATE SET enabled = excluded.enabled, secret_sealed = excluded.secret_sealed,
		     pending_secret_sealed = excluded.pending_secret_sealed, legacy_secret_sealed = excluded.legacy_secret_sealed,
		     legacy_pending_sealed = excluded.legacy_pending_sealed, updated_at = excluded.updated_at`),
		userID, r.enabled, r.secret, r.pending, r.legacySecret, r.legacyPen, now, now)
	return err
}

// tx runs fn in one transaction, so both places change or neither does; errors are mapped once.
func (f *Factors) tx(ctx context.Context, op string, fn func(tx *sqlx.Tx, now time.Time) error) error {
	tx, err := f.db.X.BeginTxx(ctx, nil)
	if err != nil {
		return f.db.Err(ctx, op, err)
	}
	if err := fn(tx, f.now()); err != nil {
		_ = tx.Rollback()
		return f.db.Err(ctx, op, err)
	}
	return f.db.Err(ctx, op, tx.Commit())
}

// updateOne runs an UPDATE that must change one row; none is errNoRows (ErrNotFound once mapped).
func updateOne(ctx context.Context, tx *sqlx.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, tx.Rebind(query), args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNoRows
	}
	return nil
}

// now is the store's clock, in what both backends keep: UTC whole microseconds.
func (f *Factors) now() time.Time {
	now := time.Now
	if f.db.Now != nil {
		now = f.db.Now
	}
	return now().UTC().Truncate(time.Microsecond)
}

func (f *Factors) open(sealed *string) (string, error) {
	if sealed == nil {
		return "", nil
	}
	s, err := f.sealer.Open(*sealed)
	if err != nil {
		return "", fmt.Errorf("mfa: open secret: %w", err)
	}
	return s, nil
}

func (f *Factors) seal(secret string) (*string, error) {
	if secret == "" {
		return nil, nil
	}
	s, err := f.sealer.Seal(secret)
	return &s, err
}
