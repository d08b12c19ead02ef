package store

import (
	"context"
	"time"
)

// Device is a POS device registered for an event, identified there by its MAC address.
type Device struct {
	ID         int64
	EventID    int64
	MAC        string // normalised by the caller
	Name       string
	OperatorID *int64
	Archived   bool
	CreatedAt  time.Time
}

// NewDevice holds the fields of a device to create.
type NewDevice struct {
	EventID    int64
	MAC        string
	Name       string
	OperatorID *int64
}

// Devices is the devices repository.
type Devices struct{ db *DB }

// NewDevices returns the devices repository of db.
func NewDevices(db *DB) *Devices { return &Devices{db: db} }

const deviceColumns = `id, event_id, mac, name, operator_id, archived, created_at`

func scanDevice(row rowScanner) (Device, error) {
	var d Device
	err := row.Scan(&d.ID, &d.EventID, &d.MAC, &d.Name, &d.OperatorID, &d.Archived, timeCol{&d.CreatedAt})
	return d, err
}

// Create inserts a device and returns its id; ErrConflict if the event already has that MAC
// (archived devices included), ErrReference if the event or operator does not exist.
func (r *Devices) Create(ctx context.Context, nd NewDevice) (int64, error) {
	var id int64
	err := r.db.X.QueryRowContext(ctx, r.db.rebind(
		`INSERT INTO devices (event_id, mac, name, operator_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		nd.EventID, nd.MAC, nd.Name, nd.OperatorID, r.db.now()).Scan(&id)
	if err != nil {
		return 0, r.db.mapErr(ctx, "devices.create", err)
	}
	return id, nil
}

// ByID returns the device with id, archived or not, or ErrNotFound.
func (r *Devices) ByID(ctx context.Context, id int64) (Device, error) {
	d, err := scanDevice(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+deviceColumns+` FROM devices WHERE id = ?`), id))
	if err != nil {
		return Device{}, r.db.mapErr(ctx, "devices.by_id", err)
	}
	return d, nil
}

// ByEventAndMAC returns the event's device with mac, archived or not, or ErrNotFound.
func (r *Devices) ByEventAndMAC(ctx context.Context, eventID int64, mac string) (Device, error) {
	d, err := scanDevice(r.db.X.QueryRowContext(ctx, r.db.rebind(
		`SELECT `+deviceColumns+` FROM devices WHERE event_id = ? AND mac = ?`), eventID, mac))
	if err != nil {
		return Device{}, r.db.mapErr(ctx, "devices.by_event_and_mac", err)
	}
	return d, nil
}

// List returns the devices, archived ones included, of eventID or of every event (nil), by id.
func (r *Devices) List(ctx context.Context, eventID *int64) ([]Device, error) {
	query, args := `SELECT `+deviceColumns+` FROM devices`, []any(nil)
	if eventID != nil {
		query, args = query+` WHERE event_id = ?`, append(args, *eventID)
	}
	rows, err := r.db.X.QueryContext(ctx, r.db.rebind(query+` ORDER BY id`), args...)
	if err != nil {
		return nil, r.db.mapErr(ctx, "devices.list", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, r.db.mapErr(ctx, "devices.list", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, r.db.mapErr(ctx, "devices.list", err)
	}
	return out, nil
}

// SetOperator binds the device to an operator; ErrReference if the user does not exist.
func (r *Devices) SetOperator(ctx context.Context, id, operatorID int64) error {
	return r.exec(ctx, "devices.set_operator", `UPDATE devices SET operator_id = ? WHERE id = ?`, operatorID, id)
}

// Archive marks the device archived; archiving twice is harmless.
func (r *Devices) Archive(ctx context.Context, id int64) error {
	return r.exec(ctx, "devices.archive", `UPDATE devices SET archived = TRUE WHERE id = ?`, id)
}

func (r *Devices) exec(ctx context.Context, op, query string, args ...any) error {
	res, err := r.db.X.ExecContext(ctx, r.db.rebind(query), args...)
	if err != nil {
		return r.db.mapErr(ctx, op, err)
	}
	ok, err := affectedOne(res)
	if err != nil {
		return r.db.mapErr(ctx, op, err)
	}
	if !ok {
		return r.db.mapErr(ctx, op, errNoRows)
	}
	return nil
}
