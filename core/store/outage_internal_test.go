package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

func TestUnavailable(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	pgErr := func(code pqerror.Code) error { return fmt.Errorf("query: %w", &pq.Error{Code: code}) }
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want bool
	}{
		{bg, refused, true},
		{bg, driver.ErrBadConn, true},
		{bg, sql.ErrConnDone, true},
		{bg, io.ErrUnexpectedEOF, true},
		{bg, context.DeadlineExceeded, true},
		{bg, pgErr("08006"), true}, // connection failure
		{bg, pgErr("53300"), true}, // too many connections
		{bg, pgErr("57P01"), true}, // admin shutdown
		{bg, pgErr("57P03"), true}, // cannot connect now (starting up)
		{bg, pgErr("57014"), true}, // query canceled by a statement timeout of ours
		{bg, pgErr("58030"), true}, // I/O error
		{bg, pgErr("23505"), false},
		{bg, pgErr("23503"), false},
		{bg, pgErr("42601"), false}, // SQL the database refused: a bug, not an outage
		{bg, pgErr("22021"), false},
		{bg, sql.ErrNoRows, false},
		{bg, context.Canceled, false},
		// lib/pq reports the cancel request it sent for a client that left as 57014.
		{cancelled, pgErr("57014"), false},
		{cancelled, refused, false},
	} {
		if got := unavailable(c.ctx, c.err); got != c.want {
			t.Errorf("unavailable(ctx cancelled %v, %v) = %v, want %v", c.ctx.Err() != nil, c.err, got, c.want)
		}
	}
}
