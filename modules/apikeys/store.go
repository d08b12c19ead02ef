package apikeys

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationsFS embed.FS

// Migrations are the module's own schema (Plugin.Migrations): the event_clients table.
var Migrations = mustSub(migrationsFS, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	return sub
}

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

// EventClients is the API key repository, over the module's own table.
type EventClients struct{ db *store.DB }

// NewEventClients returns the API key repository of db.
func NewEventClients(db *store.DB) *EventClients { return &EventClients{db: db} }

const eventClientColumns = `id, event_id, name, key_prefix, key_hash, scopes, created_at, revoked_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanEventClient(row rowScanner) (EventClient, error) {
	var (
		c      EventClient
		scopes string
	)
	if err := row.Scan(&c.ID, &c.EventID, &c.Name, &c.Prefix, &c.Hash, &scopes,
		store.TimeColumn(&c.CreatedAt), store.NullTimeColumn(&c.RevokedAt)); err != nil {
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

// Create stores a new API key; store.ErrReference if the event does not exist,
// store.ErrConflict if the hash is already in use.
func (r *EventClients) Create(ctx context.Context, n NewEventClient) (EventClient, error) {
	const op = "event_clients.create"
	if n.Hash == "" {
		return EventClient{}, fmt.Errorf("apikeys: %s: empty key hash", op)
	}
	scopes := n.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	enc, err := json.Marshal(scopes)
	if err != nil {
		return EventClient{}, fmt.Errorf("apikeys: %s: %w", op, err)
	}
	c, err := scanEventClient(r.db.X.QueryRowContext(ctx, r.db.X.Rebind(
		`INSERT INTO event_clients (event_id, name, key_prefix, key_hash, scopes, created_at)
		 VALUES (?, ?, ?, ?, ?, ?) RETURNING `+eventClientColumns),
		n.EventID, n.Name, n.Prefix, n.Hash, string(enc), r.db.Timestamp()))
	if err != nil {
		return EventClient{}, r.db.Err(ctx, op, err)
	}
	return c, nil
}

// ByHash returns the live (non-revoked) API key with hash, or store.ErrNotFound.
func (r *EventClients) ByHash(ctx context.Context, hash string) (EventClient, error) {
	c, err := scanEventClient(r.db.X.QueryRowContext(ctx, r.db.X.Rebind(
		`SELECT `+eventClientColumns+` FROM event_clients WHERE key_hash = ? AND revoked_at IS NULL`), hash))
	if err != nil {
		return EventClient{}, r.db.Err(ctx, "event_clients.by_hash", err)
	}
	return c, nil
}

// ByID returns the API key with id, revoked or not, or store.ErrNotFound.
func (r *EventClients) ByID(ctx context.Context, id int64) (EventClient, error) {
	c, err := scanEventClient(r.db.X.QueryRowContext(ctx, r.db.X.Rebind(
		`SELECT `+eventClientColumns+` FROM event_clients WHERE id = ?`), id))
	if err != nil {
		return EventClient{}, r.db.Err(ctx, "event_clients.by_id", err)
	}
	return c, nil
}

// List returns every API key, revoked or not, of one event (or of every event when eventID is
// nil), in creation order.
func (r *EventClients) List(ctx context.Context, eventID *int64) ([]EventClient, error) {
	const op = "event_clients.list"
	query, args := `SELECT `+eventClientColumns+` FROM event_clients ORDER BY id`, []any(nil)
	if eventID != nil {
		query, args = `SELECT `+eventClientColumns+` FROM event_clients WHERE event_id = ? ORDER BY id`, []any{*eventID}
	}
	rows, err := r.db.X.QueryContext(ctx, r.db.X.Rebind(query), args...)
	if err != nil {
		return nil, r.db.Err(ctx, op, err)
	}
	defer rows.Close()
	out := []EventClient{}
	for rows.Next() {
		c, err := scanEventClient(rows)
		if err != nil {
			return nil, r.db.Err(ctx, op, err)
		}
		out = append(out, c)
	}
	return out, r.db.Err(ctx, op, rows.Err())
}

// Revoke clears the key's hash, so it can never verify again, and records when. It reports
// whether this call revoked it: false without error if it already was, store.ErrNotFound if id
// is unknown.
func (r *EventClients) Revoke(ctx context.Context, id int64) (bool, error) {
	const op = "event_clients.revoke"
	res, err := r.db.X.ExecContext(ctx, r.db.X.Rebind(
		`UPDATE event_clients SET key_hash = NULL, revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
		r.db.Timestamp(), id)
	if err != nil {
		return false, r.db.Err(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, r.db.Err(ctx, op, err)
	}
	if n > 0 {
		return true, nil
	}
	if _, err := r.ByID(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}
