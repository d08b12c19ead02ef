package notbefore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/notbefore"
	"github.com/cashlessmedia/cashless-auth/core/revocation"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

func claims(role, sub string, iat int64, device *int64) *tokens.Claims {
	return &tokens.Claims{Subject: sub, Role: role, Type: tokens.TypeOffline, IssuedAt: iat, DeviceID: device}
}

// TestRevokedAtOrBefore: a token is refused when its iat is at or before its subject's time,
// a user's and a device's apart; the time only moves forward; consumers have none.
func TestRevokedAtOrBefore(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := notbefore.New(store.NewTokenNotBefore(storetest.Open(t, b)), nil, nil)
			// 999 ms into second 1000: Revoke waits 1 ms for the next second.
			now := time.Unix(1000, 999_000_000)
			s.SetClock(func() time.Time { return now })
			if err := s.Revoke(ctx, store.SubjectUser, 7); err != nil {
				t.Fatal(err)
			}
			device := int64(3)
			for _, tc := range []struct {
				c    *tokens.Claims
				want bool
			}{
				{claims("admin", "7", 999, nil), true},
				{claims("admin", "7", 1000, nil), true}, // the same second counts as revoked
				{claims("admin", "7", 1001, nil), false},
				{claims("operator", "7", 1000, nil), true},
				{claims("network_manager", "7", 1000, nil), true},
				{claims("admin", "8", 1000, nil), false},
				{claims("device", "7", 1000, nil), false},   // device 7 is not user 7
				{claims("consumer", "7", 1000, nil), false}, // nor is consumer 7
				{claims("admin", "8", 1000, &device), false},
			} {
				got, err := s.Revoked(ctx, tc.c)
				if err != nil || got != tc.want {
					t.Errorf("%s %s iat %d device %v: revoked %v (%v), want %v", tc.c.Role, tc.c.Subject, tc.c.IssuedAt, tc.c.DeviceID, got, err, tc.want)
				}
			}

			now = time.Unix(1005, 999_000_000)
			if err := s.Revoke(ctx, store.SubjectDevice, device); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*tokens.Claims{claims("device", "3", 1005, &device), claims("admin", "8", 1005, &device)} {
				if got, err := s.Revoked(ctx, c); err != nil || !got {
					t.Errorf("token of or naming device 3, iat 1005: revoked %v (%v)", got, err)
				}
			}

			now = time.Unix(900, 999_000_000) // a clock gone backwards never lowers a time
			if err := s.RevokeSubject(ctx, "admin", "7"); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Revoked(ctx, claims("admin", "7", 950, nil)); !got {
				t.Error("an earlier revocation lowered the user's time")
			}
			if err := s.RevokeSubject(ctx, "consumer", "7"); !errors.Is(err, notbefore.ErrNoSubject) {
				t.Errorf("consumer: %v", err)
			}
		})
	}
}

// TestRevokeReturnsAfterItsSecond: Revoke stores the second it began in and returns only once
// the clock has left it, so a token issued after it returns is never refused.
func TestRevokeReturnsAfterItsSecond(t *testing.T) {
	b := storetest.Backends(t)[0]
	ctx := context.Background()
	repo := store.NewTokenNotBefore(storetest.Open(t, b))
	s := notbefore.New(repo, nil, nil)
	for id := int64(1); id <= 3; id++ {
		began := time.Now().Unix()
		if err := s.Revoke(ctx, store.SubjectUser, id); err != nil {
			t.Fatal(err)
		}
		after := time.Now().Unix()
		at, err := repo.Get(ctx, store.SubjectUser, id)
		if err != nil || at < began || after <= at {
			t.Fatalf("revocation began in second %d, stored %d (%v), returned in second %d", began, at, err, after)
		}
		if got, _ := s.Revoked(ctx, claims("admin", "1", after, nil)); id == 1 && got {
			t.Fatal("a token issued after Revoke returned is refused")
		}
	}
}

// BenchmarkRevokedCached is the check's cost on the hot path of POST /tokens/verify: the
// subject's time (here none) is in the replica's cache.
func BenchmarkRevokedCached(b *testing.B) {
	ctx := context.Background()
	st := state.NewMemory()
	defer st.Close()
	users := revocation.New[int64](st, notbefore.UserChannel, time.Minute)
	devices := revocation.New[int64](st, notbefore.DeviceChannel, time.Minute)
	for _, c := range []*revocation.Cache[int64]{users, devices} {
		if err := c.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Stop)
	}
	backend := storetest.Backends(b)[0]
	s := notbefore.New(store.NewTokenNotBefore(storetest.Open(b, backend)), users, devices)
	c := claims("admin", "7", time.Now().Unix(), nil)
	if revoked, err := s.Revoked(ctx, c); err != nil || revoked {
		b.Fatal(revoked, err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if revoked, err := s.Revoked(ctx, c); err != nil || revoked {
				b.Fatal(revoked, err)
			}
		}
	})
}
