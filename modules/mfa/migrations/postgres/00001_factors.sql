-- The mfa module's own data: one row per admin who has a TOTP secret, active or pending.
-- It moves here from users.mfa_enabled, mfa_secret_sealed and mfa_pending_secret_sealed
-- (issue 14, item 2), expand then contract:
--  * This migration copies every existing row, sealed as it was (under the raw encryption key,
--    which core.Keys' sealer still opens; a secret moves to the mfa key at its next write).
--  * The users columns stay, and the module keeps writing them (sealed under the raw key) in the
--    same transaction as its own row, so the previous release, rolled back to, sees every
--    enrolment and activation made since the upgrade.
--  * That release writes only the users columns, and after a rollback and a new upgrade this
--    migration does not run again. So the users columns stay authoritative while they exist:
--    legacy_secret_sealed and legacy_pending_sealed hold the users values a row was last written
--    beside, and a row whose enabled flag or copies differ from the users row was changed by a
--    binary that writes only the users columns. Such a row is not read; the users values are,
--    and the row is rewritten from them.
--  * The release that drops the users columns first copies, in SQL, every row still out of step
--    (or missing), then drops them and the legacy_* columns (docs/upgrading.md).

-- +goose Up
CREATE TABLE mfa_factors (
    user_id               BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled               BOOLEAN     NOT NULL DEFAULT FALSE,
    secret_sealed         TEXT,
    pending_secret_sealed TEXT,
    legacy_secret_sealed  TEXT,
    legacy_pending_sealed TEXT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO mfa_factors (user_id, enabled, secret_sealed, pending_secret_sealed,
                         legacy_secret_sealed, legacy_pending_sealed, created_at, updated_at)
SELECT id, mfa_enabled, mfa_secret_sealed, mfa_pending_secret_sealed,
       mfa_secret_sealed, mfa_pending_secret_sealed, updated_at, updated_at
FROM users
WHERE mfa_enabled OR mfa_secret_sealed IS NOT NULL OR mfa_pending_secret_sealed IS NOT NULL;

-- +goose Down
DROP TABLE mfa_factors;
