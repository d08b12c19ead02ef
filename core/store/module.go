package store

import (
	"database/sql"
	"time"
)

// Helpers for a module's own repository: a module keeps the tables only it uses (its
// Plugin.Migrations) and queries them through DB.X, the way the core's repositories query
// theirs. Both backends must read and write the same values, which is what these are for:
// SQLite keeps times as integer microseconds, PostgreSQL as TIMESTAMPTZ.

// Timestamp is the current time as the store keeps it (DB.Now, else the wall clock; UTC, whole
// microseconds): use it for created_at and similar columns, so tests that set DB.Now see it.
func (db *DB) Timestamp() time.Time { return db.now() }

// StoredTime is t as both backends store and compare it (UTC, whole microseconds). Pass every
// time a module writes or compares through it, so what is read back equals what was written.
func StoredTime(t time.Time) time.Time { return dbTime(t) }

// TimeColumn scans a NOT NULL time column of either backend into *t.
func TimeColumn(t *time.Time) sql.Scanner { return timeCol{t} }

// NullTimeColumn scans a nullable time column of either backend into *t (nil for NULL).
func NullTimeColumn(t **time.Time) sql.Scanner { return nullTimeCol{t} }
