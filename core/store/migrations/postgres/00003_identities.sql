-- A consumer's identities at external identity providers, keyed by what the provider's tokens
-- say: the issuer (iss) and the subject (sub). Not by a configured lane name: renaming a provider
-- in config orphans no one, and two lanes trusting the same issuer (Firebase and a generic OIDC
-- lane on the same project) meet the same consumer. Never by e-mail: an address a provider vouches
-- for is not proof of owning the account another provider opened.
-- Expand-only: a new table the previous release neither reads nor minds. The Firebase lane keeps
-- consumers.firebase_uid written beside it until a later release contracts it (docs/upgrading.md).

-- +goose Up
CREATE TABLE identities (
    issuer       TEXT        NOT NULL CHECK (issuer <> ''),
    subject      TEXT        NOT NULL CHECK (subject <> ''),
    consumer_id  BIGINT      NOT NULL REFERENCES consumers (id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX identities_consumer_id_idx ON identities (consumer_id);

-- +goose Down
DROP TABLE identities;
