-- Disabling a staff user (`cashless-auth users disable`): people are never deleted, their ids are
-- referenced (devices, audit, revocations), so an account that must stop is disabled instead.
--
-- Two marks, kept together:
-- - disabled_at, the state this release reads (NULL: enabled);
-- - a "!" before password_hash, as /etc/shadow locks an account: no verifier of any release
--   accepts the hash (v0.1.0's answers "wrong password" for an unknown format), so a user
--   disabled by this release cannot log in with v0.1.0 after a rollback, which knows no column.
--   Enabling strips the "!", and the password is the one the user had.
-- The trigger keeps the second mark on whatever writes a hash to a disabled account (v0.1.0's
-- password reset after a rollback, or a hash upgrade racing the disable), so the hash alone
-- always tells a disabled account; it never fires for an enabled one.
-- Expand-only: one nullable column and a trigger that only touches disabled rows, which
-- v0.1.0 never makes (docs/upgrading.md, "Next release").

-- +goose Up
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

-- +goose StatementBegin
CREATE FUNCTION users_keep_disabled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.disabled_at IS NOT NULL AND left(NEW.password_hash, 1) <> '!' THEN
        NEW.password_hash := '!' || NEW.password_hash;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_keep_disabled BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_keep_disabled();

-- +goose Down
DROP TRIGGER users_keep_disabled ON users;
DROP FUNCTION users_keep_disabled();
ALTER TABLE users DROP COLUMN disabled_at;
