-- The module's own table. Core's 00001_init created it historically, so on every database made
-- so far this is a no-op (IF NOT EXISTS, same definition and indexes); a fresh database gets it
-- here once a later release contracts ownership and core's init no longer creates it.

-- +goose Up
CREATE TABLE IF NOT EXISTS event_clients (
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
CREATE INDEX IF NOT EXISTS event_clients_event_id_idx ON event_clients (event_id);

-- +goose Down
-- Nothing: the table is still core's 00001_init's, whose own Down drops it. Dropping it here
-- would lose every key when the module's migrations are rolled back alone.
SELECT 1;
