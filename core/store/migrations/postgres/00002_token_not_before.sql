-- The revocation primitive of docs/contract/NOTES.md ("Hardening decisions"): every token of a
-- subject (a staff user or a POS device) whose iat is at or before not_before (unix seconds) is
-- refused. Expand-only: a new table, which the previous release neither reads nor minds, so it
-- still runs on a database migrated to this version (docs/upgrading.md).
-- No foreign key: a subject is a user or a device, and ids are never reused, so a row that
-- outlives its subject names nobody.

-- +goose Up
CREATE TABLE token_not_before (
    kind       TEXT        NOT NULL CHECK (kind IN ('user', 'device')),
    subject_id BIGINT      NOT NULL,
    not_before BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject_id)
);

-- +goose Down
DROP TABLE token_not_before;
