package attacks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// The reset quota reveals nothing (NOTES.md, "Hardening decisions"): POST
// /admin/password-reset/email-send counts requests per submitted address, admin or not, at
// request time, so an attacker's own requests cannot tell an admin's address from any other,
// and an admin never gets more than reset.quota_per_hour mails however the requests arrive.

const (
	resetQuota  = 3 // reset.quota_per_hour's default, which these tests keep
	resetDomain = "attack-reset.cashless.test"
)

// resetAnswer is what a caller learns from one email-send.
type resetAnswer struct {
	Status     int
	Body       string
	RetryAfter bool
}

func (a resetAnswer) String() string {
	return fmt.Sprintf("%d retry-after=%v %s", a.Status, a.RetryAfter, a.Body)
}

// sendResetFrom posts email-send from a client IP no other request used. It is safe to call
// from many goroutines: failures are returned, not reported through t.
func sendResetFrom(base, email string) (resetAnswer, error) {
	sent, _ := json.Marshal(map[string]any{"email": email})
	req, err := http.NewRequest(http.MethodPost, base+"/admin/password-reset/email-send", bytes.NewReader(sent))
	if err != nil {
		return resetAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	ip := fromNewIP()
	req.Header.Set(ip[0], ip[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return resetAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resetAnswer{}, err
	}
	if err := testkit.CheckContract(req, sent, &testkit.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}); err != nil {
		return resetAnswer{}, fmt.Errorf("%d breaks the contract: %w: %s", resp.StatusCode, err, body)
	}
	return resetAnswer{Status: resp.StatusCode, Body: string(body), RetryAfter: resp.Header.Get("Retry-After") != ""}, nil
}

func mustSendReset(t *testing.T, env *testkit.Env, email string) resetAnswer {
	t.Helper()
	a, err := sendResetFrom(env.URL, email)
	if err != nil {
		t.Fatalf("email-send %q: %v", email, err)
	}
	return a
}

// TestResetQuotaSameForEveryAddress: from a fresh IP each time, an admin's address and an
// unknown one get the same answers, request after request: quota × 200, then 429 with
// Retry-After; the admin gets exactly the quota of mails, the unknown address none.
func TestResetQuotaSameForEveryAddress(t *testing.T) {
	mp := testkit.NewMailpit(t)
	testkit.ForEachBackend(t, service(mp.Config(t)), func(t *testing.T, env *testkit.Env) {
		admin, unknown, marker := mp.Recipient(t, "admin", resetDomain), mp.Recipient(t, "unknown", resetDomain), mp.Recipient(t, "marker", resetDomain)
		env.User(t, admin, "admin-pass-1", "admin", nil, 0)
		env.User(t, marker, "admin-pass-2", "admin", nil, 0)

		var known, other []resetAnswer
		for range resetQuota + 3 {
			known = append(known, mustSendReset(t, env, admin))
			other = append(other, mustSendReset(t, env, unknown))
		}
		for i := range known {
			want := 200
			if i >= resetQuota {
				want = 429
			}
			if known[i] != other[i] || known[i].Status != want || known[i].RetryAfter != (want == 429) {
				t.Fatalf("request %d: admin %v, unknown %v; want the same %d", i+1, known[i], other[i], want)
			}
		}
		settle(t, mp, env, marker)
		if n := len(mp.Search(t, admin)); n != resetQuota {
			t.Errorf("%d mails to the admin, want %d", n, resetQuota)
		}
		if n := len(mp.Search(t, unknown)); n != 0 {
			t.Errorf("%d mails to an unknown address", n)
		}
	})
}

// TestResetQuotaConcurrent: 20 requests at once, each from its own IP, for an admin and as many
// for an unknown address: each address gets exactly quota × 200 (answers in the same multiset),
// and the admin exactly the quota of mails.
func TestResetQuotaConcurrent(t *testing.T) {
	mp := testkit.NewMailpit(t)
	testkit.ForEachBackend(t, service(mp.Config(t)), func(t *testing.T, env *testkit.Env) {
		admin, unknown, marker := mp.Recipient(t, "burst-admin", resetDomain), mp.Recipient(t, "burst-unknown", resetDomain), mp.Recipient(t, "marker", resetDomain)
		env.User(t, admin, "admin-pass-1", "admin", nil, 0)
		env.User(t, marker, "admin-pass-2", "admin", nil, 0)

		const n = 20
		var mu sync.Mutex
		got := map[string]map[resetAnswer]int{admin: {}, unknown: {}}
		var errs []error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 2 * n {
			addr := admin
			if i%2 == 1 {
				addr = unknown
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				a, err := sendResetFrom(env.URL, addr)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				got[addr][a]++
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d failed requests, first: %v", len(errs), errs[0])
		}
		statuses := func(m map[resetAnswer]int) (ok, limited int) {
			for a, c := range m {
				switch {
				case a.Status == 200 && !a.RetryAfter:
					ok += c
				case a.Status == 429 && a.RetryAfter:
					limited += c
				}
			}
			return ok, limited
		}
		for _, addr := range []string{admin, unknown} {
			if ok, limited := statuses(got[addr]); ok != resetQuota || limited != n-resetQuota {
				t.Errorf("%s: %v; want %d × 200 and %d × 429", addr, got[addr], resetQuota, n-resetQuota)
			}
		}
		if fmt.Sprint(got[admin]) != fmt.Sprint(got[unknown]) {
			t.Errorf("answers differ: admin %v, unknown %v", got[admin], got[unknown])
		}
		settle(t, mp, env, marker)
		if c := len(mp.Search(t, admin)); c != resetQuota {
			t.Errorf("%d mails to the admin after %d concurrent requests, want %d", c, n, resetQuota)
		}
		if c := len(mp.Search(t, unknown)); c != 0 {
			t.Errorf("%d mails to an unknown address", c)
		}
	})
}

// TestResetQuotaNormalisedAndHashed: the quota belongs to the address as login normalises it, so
// changing its case does not buy more requests; an address with surrounding spaces is refused by
// the schema and counts nothing. The state store never holds an address in clear: on Redis,
// every key is inspected.
func TestResetQuotaNormalisedAndHashed(t *testing.T) {
	mp := testkit.NewMailpit(t)
	testkit.ForEachBackend(t, service(mp.Config(t)), func(t *testing.T, env *testkit.Env) {
		admin, unknown, marker := mp.Recipient(t, "norm-admin", resetDomain), mp.Recipient(t, "norm-unknown", resetDomain), mp.Recipient(t, "marker", resetDomain)
		env.User(t, admin, "admin-pass-1", "admin", nil, 0)
		env.User(t, marker, "admin-pass-2", "admin", nil, 0)

		for _, addr := range []string{admin, unknown} {
			for _, spaced := range []string{" " + addr, addr + " ", "\t" + strings.ToUpper(addr) + " "} {
				if a := mustSendReset(t, env, spaced); a.Status != 422 {
					t.Fatalf("%q: %v, want 422", spaced, a)
				}
			}
			variants := []string{strings.ToUpper(addr), addr, titleCase(addr), strings.ToUpper(addr[:1]) + addr[1:]}
			for i, v := range variants {
				want := 200
				if i >= resetQuota {
					want = 429
				}
				if a := mustSendReset(t, env, v); a.Status != want {
					t.Fatalf("request %d (%q): %v, want %d", i+1, v, a, want)
				}
			}
		}
		settle(t, mp, env, marker)
		if n := len(mp.Search(t, admin)); n != resetQuota {
			t.Errorf("%d mails to the admin, want %d", n, resetQuota)
		}

		if env.Backend != "postgres" {
			return // the in-process store lists no keys; it holds the same names as Redis
		}
		c := statetest.Client(t)
		ctx := context.Background()
		var keys []string
		iter := c.Scan(ctx, 0, env.RedisPrefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		quotaKeys := 0
		for _, k := range keys {
			lower := strings.ToLower(k)
			for _, addr := range []string{admin, unknown, marker} {
				if local, _, _ := strings.Cut(addr, "@"); strings.Contains(lower, local) {
					t.Errorf("state key %q names the address %s", k, addr)
				}
			}
			if strings.Contains(k, "@") || strings.Contains(lower, resetDomain) {
				t.Errorf("state key %q holds an address", k)
			}
			if strings.HasPrefix(k, env.RedisPrefix+"reset:quota:") {
				quotaKeys++
				if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
					t.Errorf("quota key %q expires in %v, want within the hour", k, ttl)
				}
				if v := c.Get(ctx, k).Val(); v != "1" && v != "4" {
					t.Errorf("quota key %q holds %q, want a count", k, v)
				}
			}
		}
		// One counter per normalised address: the admin, the unknown address, the marker.
		if quotaKeys != 3 {
			t.Errorf("%d quota keys for 3 normalised addresses: %q", quotaKeys, keys)
		}
	})
}

// titleCase upper-cases the first letter of each dot- or dash-separated part of addr.
func titleCase(addr string) string {
	b := []byte(addr)
	for i := range b {
		if (i == 0 || strings.ContainsRune(".-@", rune(b[i-1]))) && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// settle requests a reset for the admin marker, whose quota is untouched, and waits for its mail:
// the service's one mail worker sends in request order, so every mail queued by an earlier
// request has been sent (or dropped) by then, and counting the others is final.
func settle(t *testing.T, m *testkit.Mailpit, env *testkit.Env, marker string) {
	t.Helper()
	if a := mustSendReset(t, env, marker); a.Status != 200 {
		t.Fatalf("marker request: %v", a)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(m.Search(t, marker)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no mail to the marker admin %s", marker)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
