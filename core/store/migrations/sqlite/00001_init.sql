-- Conventions for the embedded schema (see doc.go):
--  * STRICT tables, so a value of the wrong type is an error instead of being stored silently.
--  * Times are INTEGER unix microseconds (UTC). The driver writes time.Time that way
--    (_time_integer_format=unix_micro) and the store scans them back; integers compare correctly in SQL.
--  * Booleans are INTEGER 0/1.
--  * AUTOINCREMENT so that ids are never reused after a delete: a JWT whose sub names a deleted user
--    must not start to name a new one.

-- +goose Up
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;

CREATE TABLE users (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    email                     TEXT    NOT NULL CHECK (email <> ''),
    password_hash             TEXT    NOT NULL,
    role                      TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'network_manager')),
    event_id                  INTEGER REFERENCES events (id),
    mode                      INTEGER NOT NULL DEFAULT 0,
    session_token_hash        TEXT    UNIQUE,
    session_token_sealed      TEXT,
    last_dev_mac              TEXT,
    mfa_enabled               INTEGER NOT NULL DEFAULT 0 CHECK (mfa_enabled IN (0, 1)),
    mfa_secret_sealed         TEXT,
    mfa_pending_secret_sealed TEXT,
    created_at                INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated_at                INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;
-- SQLite's lower() folds ASCII only; the application stores emails already lower-cased (Unicode-aware),
-- so this index still rejects case variants of stored addresses.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_event_id_idx ON users (event_id);

CREATE TABLE consumers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    phone         TEXT    UNIQUE,
    firebase_uid  TEXT    UNIQUE,
    email         TEXT,
    created_at    INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    last_login_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;

CREATE TABLE devices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    INTEGER NOT NULL REFERENCES events (id),
    mac         TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    operator_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    archived    INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    UNIQUE (event_id, mac)
) STRICT;
CREATE INDEX devices_operator_id_idx ON devices (operator_id);

CREATE TABLE event_clients (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER NOT NULL REFERENCES events (id),
    name       TEXT    NOT NULL,
    key_prefix TEXT    NOT NULL,
    key_hash   TEXT    UNIQUE,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    revoked_at INTEGER,
    CHECK ((key_hash IS NULL) = (revoked_at IS NOT NULL))
) STRICT;
CREATE INDEX event_clients_event_id_idx ON event_clients (event_id);

CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL UNIQUE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;
CREATE INDEX password_resets_user_created_idx ON password_resets (user_id, created_at);

-- +goose Down
DROP TABLE password_resets;
DROP TABLE event_clients;
DROP TABLE devices;
DROP TABLE consumers;
DROP TABLE users;
DROP TABLE events;
