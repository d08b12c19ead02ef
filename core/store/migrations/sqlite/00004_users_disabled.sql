-- Disabling a staff user (`cashless-auth users disable`): people are never deleted, their ids are
-- referenced (devices, audit, revocations), so an account that must stop is disabled instead.
--
-- Two marks, kept together:
-- - disabled_at (unix microseconds), the state this release reads (NULL: enabled);
-- - a "!" before password_hash, as /etc/shadow locks an account: no verifier of any release
--   accepts the hash (v0.1.0's answers "wrong password" for an unknown format), so a user
--   disabled by this release cannot log in with v0.1.0 after a rollback, which knows no column.
--   Enabling strips the "!", and the password is the one the user had.
-- The trigger keeps the second mark on whatever writes a hash to a disabled account (v0.1.0's
-- password reset after a rollback, or a hash upgrade racing the disable), so the hash alone
-- always tells a disabled account; it never fires for an enabled one. SQLite cannot change NEW
-- before the write, so it corrects the row after it, in the same statement.
-- Expand-only: one nullable column and a trigger that only touches disabled rows, which
-- v0.1.0 never makes (docs/upgrading.md, "Next release").

-- +goose Up
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- +goose StatementBegin
CREATE TRIGGER users_keep_disabled AFTER UPDATE OF password_hash, disabled_at ON users
    FOR EACH ROW WHEN NEW.disabled_at IS NOT NULL AND substr(NEW.password_hash, 1, 1) <> '!'
BEGIN
    UPDATE users SET password_hash = '!' || NEW.password_hash WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_keep_disabled;
ALTER TABLE users DROP COLUMN disabled_at;
