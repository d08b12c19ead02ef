-- +goose Up
CREATE TABLE events (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                        BIGSERIAL PRIMARY KEY,
    email                     TEXT        NOT NULL CHECK (email <> ''),
    password_hash             TEXT        NOT NULL,
    role                      TEXT        NOT NULL CHECK (role IN ('admin', 'operator', 'network_manager')),
    event_id                  BIGINT      REFERENCES events (id),
    mode                      INTEGER     NOT NULL DEFAULT 0,
    session_token_hash        TEXT        UNIQUE,
    session_token_sealed      TEXT,
    last_dev_mac              TEXT,
    mfa_enabled               BOOLEAN     NOT NULL DEFAULT FALSE,
    mfa_secret_sealed         TEXT,
    mfa_pending_secret_sealed TEXT,
    created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Emails are unique regardless of case; the application also stores them lower-cased.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_event_id_idx ON users (event_id);

CREATE TABLE consumers (
    id            BIGSERIAL PRIMARY KEY,
    phone         TEXT        UNIQUE,
    firebase_uid  TEXT        UNIQUE,
    email         TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    id          BIGSERIAL PRIMARY KEY,
    event_id    BIGINT      NOT NULL REFERENCES events (id),
    mac         TEXT        NOT NULL,
    name        TEXT        NOT NULL DEFAULT '',
    operator_id BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    archived    BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (event_id, mac)
);
-- Lets ON DELETE SET NULL find a deleted operator's devices without a scan.
CREATE INDEX devices_operator_id_idx ON devices (operator_id);

CREATE TABLE event_clients (
    id         BIGSERIAL PRIMARY KEY,
    event_id   BIGINT      NOT NULL REFERENCES events (id),
    name       TEXT        NOT NULL,
    key_prefix TEXT        NOT NULL,
    key_hash   TEXT        UNIQUE,
    scopes     TEXT        NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ,
    -- A revoked key must not keep a verifiable hash, and a live key must have one.
    CHECK ((key_hash IS NULL) = (revoked_at IS NOT NULL))
);
CREATE INDEX event_clients_event_id_idx ON event_clients (event_id);

CREATE TABLE password_resets (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT        NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Serves the per-user hourly quota (CountSince) and the cascade on user delete.
CREATE INDEX password_resets_user_created_idx ON password_resets (user_id, created_at);

-- +goose Down
DROP TABLE password_resets;
DROP TABLE event_clients;
DROP TABLE devices;
DROP TABLE consumers;
DROP TABLE users;
DROP TABLE events;
