package store_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/outage"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit/cutproxy"
)

// TestOutagesAreMarkedAndCounted: with PostgreSQL unreachable a repository call fails as an
// outage.Error naming the database, told to OnOutage once; a missing row, a duplicate and a
// caller that gave up are not outages; the pool reconnects once the server is back.
func TestOutagesAreMarkedAndCounted(t *testing.T) {
	var b storetest.Backend
	for _, be := range storetest.Backends(t) {
		if be.Name == storetest.Postgres {
			b = be
		}
	}
	if b.Name == "" {
		t.Skip("needs the PostgreSQL backend")
	}
	u, err := url.Parse(b.URL)
	if err != nil || u.Port() == "" {
		t.Skipf("needs a PostgreSQL URL with host:port, not %s", store.RedactURL(b.URL))
	}
	p := cutproxy.Start(t, u.Host)
	u.Host = p.Addr()
	db := storetest.Open(t, storetest.Backend{Name: b.Name, URL: u.String(), DataDir: b.DataDir})
	outages := 0
	db.OnOutage = func() { outages++ }
	users := store.NewUsers(db)
	ctx := context.Background()

	if _, err := users.ByID(ctx, 42); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ByID of a missing user: %v", err)
	}
	nu := store.NewUser{Email: "a@example.com", PasswordHash: "x", Role: store.RoleAdmin}
	if _, err := users.Create(ctx, nu); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, nu); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second Create: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := users.ByID(cancelled, 1); err == nil {
		t.Fatal("ByID with a cancelled context succeeded")
	} else if _, ok := outage.Of(err); ok {
		t.Errorf("ByID with a cancelled context is marked as an outage: %v", err)
	}
	if outages != 0 {
		t.Fatalf("%d outages counted for business answers and a cancelled call", outages)
	}

	p.Cut()
	_, err = users.ByEmail(ctx, "a@example.com")
	if dep, ok := outage.Of(err); !ok || dep != outage.Database {
		t.Errorf("ByEmail with the database cut: %v, want a database outage", err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping with the database cut succeeded")
	}
	if outages != 2 {
		t.Errorf("%d outages counted for two failed calls, want 2", outages)
	}

	p.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := users.ByEmail(ctx, "a@example.com"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("still failing 10 s after the restore: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
