-- +goose Up
CREATE TABLE guest_visits (
    code   TEXT    PRIMARY KEY,
    gate   TEXT    NOT NULL,
    visits INTEGER NOT NULL
);

-- +goose Down
DROP TABLE guest_visits;
