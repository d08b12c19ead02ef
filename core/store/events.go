package store

import (
	"context"
	"time"
)

// Event is a festival or venue that staff, devices and API keys belong to.
type Event struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// Events is the events repository.
type Events struct{ db *DB }

// NewEvents returns the events repository of db.
func NewEvents(db *DB) *Events { return &Events{db: db} }

// Create inserts an event and returns its id.
func (r *Events) Create(ctx context.Context, name string) (int64, error) {
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO events (name, created_at) VALUES (?, ?) RETURNING id`),
		name, r.db.now()).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, "events.create", err)
	}
	return id, nil
}

// Get returns the event with id, or ErrNotFound.
func (r *Events) Get(ctx context.Context, id int64) (Event, error) {
	var e Event
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT id, name, created_at FROM events WHERE id = ?`), id).
		Scan(&e.ID, &e.Name, timeCol{&e.CreatedAt})
	if err != nil {
		return Event{}, r.db.mapErr(ctx, "events.get", err)
	}
	return e, nil
}

// List returns every event, by id.
func (r *Events) List(ctx context.Context) ([]Event, error) {
	rows, err := r.db.X.QueryContext(ctx, `SELECT id, name, created_at FROM events ORDER BY id`)
	if err != nil {
		return nil, r.db.mapErr(ctx, "events.list", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.Name, timeCol{&e.CreatedAt}); err != nil {
			return nil, r.db.mapErr(ctx, "events.list", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, r.db.mapErr(ctx, "events.list", err)
	}
	return out, nil
}

// Exists reports whether an event with id exists.
func (r *Events) Exists(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT EXISTS (SELECT 1 FROM events WHERE id = ?)`), id).Scan(&ok)
	if err != nil {
		return false, r.db.mapErr(ctx, "events.exists", err)
	}
	return ok, nil
}
