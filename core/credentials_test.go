package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
	"github.com/cashlessmedia/cashless-auth/core/passwords"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
)

// TestDisabledAccountIsAWrongPassword: a disabled account with its right password gets what a
// wrong password gets, ErrBadCredentials, after the same hashing work (timing must not tell),
// and counts towards its lock as a wrong password does.
func TestDisabledAccountIsAWrongPassword(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.Backends(t)[0])
	hasher := passwords.New(passwords.OWASP, 1, passwords.Isolation{})
	t.Cleanup(hasher.Close)
	users := store.NewUsers(db)
	hash, err := hasher.Hash(ctx, "right-pass-123")
	if err != nil {
		t.Fatal(err)
	}
	id, err := users.Create(ctx, store.NewUser{Email: "off@example.com", PasswordHash: hash, Role: store.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Disable(ctx, id); err != nil {
		t.Fatal(err)
	}
	cfg := config.Core{Password: config.Password{LockAfter: 3, LockBase: time.Minute, LockMax: time.Hour}}
	creds := newStaffPasswords(staffPasswordsIn{Users: users, Hasher: hasher, M: metrics.New(), Log: zap.NewNop(),
		Lock: NewAccountLock(state.NewMemory(), cfg, Secrets{JWT: []byte("test-secret-test-secret-test-secret-0123")})})

	// Every refusal spends one verification's work, as a wrong password does (counted by the
	// hasher, not timed: the machine's load must not decide the test).
	for i := range cfg.Password.LockAfter {
		before := hasher.Verifications()
		_, err := creds.Check(ctx, "off@example.com", "right-pass-123")
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v; want ErrBadCredentials", i+1, err)
		}
		if n := hasher.Verifications() - before; n != 1 {
			t.Fatalf("attempt %d ran %d verifications, want 1: the refusal skipped the hashing", i+1, n)
		}
	}
	var locked *LockedError
	if _, err := creds.Check(ctx, "off@example.com", "right-pass-123"); !errors.As(err, &locked) {
		t.Fatalf("after %d refusals: %v; want the lock a wrong password earns", cfg.Password.LockAfter, err)
	}
}
