package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// EventClient is an API key issued to a client of one event. Only the key's hash is stored.
type EventClient struct {
	ID        int64
	EventID   int64
	Name      string
	Prefix    string  // short visible prefix of the key, for recognising it
	Hash      *string // nil once revoked
	Scopes    []string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Revoked reports whether the key has been revoked.
func (c EventClient) Revoked() bool { return c.RevokedAt != nil }

// NewEventClient holds the fields of an API key to create.
type NewEventClient struct {
	EventID int64
	Name    string
	Prefix  string
	Hash    string
	Scopes  []string
}

// EventClients is the API key repository.
type EventClients struct{ db *DB }

// NewEventClients returns the API key repository of db.
func NewEventClients(db *DB) *EventClients { return &EventClients{db: db} }

const eventClientColumns = `id, event_id, name, key_prefix, key_hash, scopes, created_at, revoked_at`

func scanEventClient(row rowScanner) (EventClient, error) {
	var (
		c      EventClient
		scopes string
	)
	if err := row.Scan(&c.ID, &c.EventID, &c.Name, &c.Prefix, &c.Hash, &scopes,
		timeCol{&c.CreatedAt}, nullTimeCol{&c.RevokedAt}); err != nil {
		return EventClient{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return EventClient{}, fmt.Errorf("decode scopes of event client %d: %w", c.ID, err)
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	return c, nil
}

// Create stores a new API key; ErrReference if the event does not exist, ErrConflict if the
// hash is already in use.
func (r *EventClients) Create(ctx context.Context, n NewEventClient) (EventClient, error) {
	const op = "event_clients.create"
	if n.Hash == "" {
		return EventClient{}, fmt.Errorf("store: %s: empty key hash", op)
	}
	scopes := n.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	enc, err := json.Marshal(scopes)
	if err != nil {
		return EventClient{}, fmt.Errorf("store: %s: %w", op, err)
	}
	c, err := scanEventClient(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO event_clients (event_id, name, key_prefix, key_hash, scopes, created_at)
		 VALUES (?, ?, ?, ?, ?, ?) RETURNING `+eventClientColumns),
		n.EventID, n.Name, n.Prefix, n.Hash, string(enc), r.db.now()))
	if err != nil {
		return EventClient{}, r.db.mapErr(ctx, op, err)
	}
	return c, nil
}

// ByHash returns the live (non-revoked) API key with hash, or ErrNotFound.
func (r *EventClients) ByHash(ctx context.Context, hash string) (EventClient, error) {
	c, err := scanEventClient(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+eventClientColumns+` FROM event_clients WHERE key_hash = ? AND revoked_at IS NULL`), hash))
	if err != nil {
		return EventClient{}, r.db.mapErr(ctx, "event_clients.by_hash", err)
	}
	return c, nil
}

// ByID returns the API key with id, revoked or not, or ErrNotFound.
func (r *EventClients) ByID(ctx context.Context, id int64) (EventClient, error) {
	c, err := scanEventClient(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+eventClientColumns+` FROM event_clients WHERE id = ?`), id))
	if err != nil {
		return EventClient{}, r.db.mapErr(ctx, "event_clients.by_id", err)
	}
	return c, nil
}

// Revoke clears the key's hash, so it can never verify again, and records when. It reports
// whether this call revoked it: false without error if it already was, ErrNotFound if id is unknown.
func (r *EventClients) Revoke(ctx context.Context, id int64) (bool, error) {
	const op = "event_clients.revoke"
	res, err := r.db.X.ExecContext(ctx, r.db.rebind(
		`UPDATE event_clients SET key_hash = NULL, revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
		r.db.now(), id)
	if err != nil {
		return false, r.db.mapErr(ctx, op, err)
	}
	revoked, err := affectedOne(res)
	if err != nil {
		return false, r.db.mapErr(ctx, op, err)
	}
	if revoked {
		return true, nil
	}
	if _, err := r.ByID(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}
