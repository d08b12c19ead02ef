// Package store is the persistence layer of cashless-auth: one set of repositories over either
// PostgreSQL (production) or an embedded SQLite file (the zero-configuration default).
//
// # Portability rules
//
// Queries are written once with ? placeholders and passed through sqlx's Rebind, so the same text
// runs on lib/pq ($1, $2, ...) and on modernc.org/sqlite. Only SQL understood by both engines is
// used: INSERT ... ON CONFLICT, UPDATE ... RETURNING, TRUE/FALSE literals, lower() expression indexes.
// DDL differs, so each dialect has its own goose migration directory.
//
// # Time
//
// Every time the store hands out is UTC and truncated to the microsecond, because PostgreSQL's
// timestamptz keeps microseconds (and would round, not truncate, anything finer). A time.Time
// written and read back is therefore == to the original after the same truncation.
// On SQLite times are INTEGER unix microseconds: the driver is opened with
// _time_integer_format=unix_micro so time.Time parameters are bound as integers, and the store
// scans integers back itself. Integers compare correctly in SQL (expires_at > ?), round-trip
// exactly, and STRICT tables reject any value that slips through as text.
//
// # SQLite connections
//
// The embedded database runs in WAL mode with foreign keys on and a 5 s busy timeout, set per
// connection through the DSN. The pool keeps several connections (see sqliteMaxOpenConns) rather
// than one: WAL lets readers (token verification, logins) proceed while a write is in progress,
// and SQLite itself serialises writers, with the busy timeout making a waiting writer retry rather
// than fail. Explicit transactions begin IMMEDIATE (_txlock=immediate) so they take the write lock
// up front; a deferred transaction that read first and wrote later could fail with SQLITE_BUSY
// without the busy handler being consulted.
//
// # Errors
//
// Unique violations on either driver are ErrConflict, a missing row is ErrNotFound and a foreign
// key naming a missing row is ErrReference; test with errors.Is. A failure of the database
// itself (unreachable, too slow, unable to serve) wraps an *outage.Error and is told to
// DB.OnOutage, once, so callers neither classify nor count. Error texts name the operation,
// never the values involved, so hashes, sealed secrets and e-mail addresses stay out of logs.
package store
