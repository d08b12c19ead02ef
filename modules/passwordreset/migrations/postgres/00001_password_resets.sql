-- The module's own table. Core's 00001_init created it historically, so on every database made
-- so far this is a no-op (IF NOT EXISTS, same definition and indexes); a fresh database gets it
-- here once a later release contracts ownership and core's init no longer creates it. The
-- cascade is what lets the core delete a user without knowing this module.

-- +goose Up
CREATE TABLE IF NOT EXISTS password_resets (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT        NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Serves the per-user hourly quota (CountSince) and the cascade on user delete.
CREATE INDEX IF NOT EXISTS password_resets_user_created_idx ON password_resets (user_id, created_at);

-- +goose Down
-- Nothing: the table is still core's 00001_init's, whose own Down drops it. Dropping it here
-- would lose pending tokens when the module's migrations are rolled back alone.
SELECT 1;
