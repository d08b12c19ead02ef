-- +goose Up
CREATE TABLE guest_visits (
    code   TEXT    PRIMARY KEY,
    gate   TEXT    NOT NULL,
    visits INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE guest_visits;
