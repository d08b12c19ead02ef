package attacks_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// Honest refresh retries. A mobile client that retried a refresh whose answer it lost ended its
// own session through reuse detection (NOTES.md, "Tokens": an already-rotated refresh token
// revokes its family). Reuse detection stays, counted in cashless_auth_refresh_reuse_total; with
// jwt.refresh_reuse_grace (off by default) the retry gets the pair of the first try instead.

const reuseMetric = "cashless_auth_refresh_reuse_total"

// pairOf is the token pair of a 200 refresh or login answer.
func pairOf(t *testing.T, r reply) tokenPair {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("want a pair: %d %v", r.status, r.body)
	}
	return tokenPair{r.body["access_token"].(string), r.body["refresh_token"].(string)}
}

func refresh(t *testing.T, env *testkit.Env, token string) reply {
	t.Helper()
	return mustSend(t, env, "/auth/refresh", map[string]any{"refresh_token": token}, "")
}

// wantReuse checks the answer of a reused refresh token: 401, session revoked.
func wantReuse(t *testing.T, what string, r reply) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.detail != "Refresh token reuse detected; session revoked" {
		t.Errorf("%s: %d %q, want the reuse 401", what, r.status, r.detail)
	}
}

// wantEnded checks the answer to the refresh token of a session that has ended.
func wantEnded(t *testing.T, what string, r reply) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.detail != "Invalid or expired refresh token" {
		t.Errorf("%s: %d %q, want the 401 of an ended session", what, r.status, r.detail)
	}
}

// usable checks that a pair works as any: its access token verifies and is a bearer, and its
// refresh token rotates once. It returns the pair that rotation gave.
func usable(t *testing.T, env *testkit.Env, what string, p tokenPair) tokenPair {
	t.Helper()
	c := revocationClient{t, env}
	c.expect(true, map[string]string{what + ": access token": p.access})
	if r := c.do("GET", "/admin/me", nil, p.access); r.Status != http.StatusOK {
		t.Errorf("%s: access token as a bearer: %d", what, r.Status)
	}
	return pairOf(t, refresh(t, env, p.refresh))
}

// TestRefreshRetryWithinGrace: with jwt.refresh_reuse_grace, a client that retries a refresh
// (one by one or at once) gets the pair of the first rotation again, and that pair works as any;
// once that pair's refresh token has itself been rotated, the old token is reuse again; after
// the grace too. Each reuse ends the session and counts in cashless_auth_refresh_reuse_total.
func TestRefreshRetryWithinGrace(t *testing.T) {
	const grace = 3 * time.Second
	testkit.ForEachBackend(t, service(map[string]any{"jwt.refresh_reuse_grace": grace.String()}), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
		reuses := metrics(t, env)[reuseMetric]

		first := c.login("admin@example.com", revocationPassword, "admin")
		rotated := pairOf(t, refresh(t, env, first.refresh))
		for i := range 2 {
			if again := pairOf(t, refresh(t, env, first.refresh)); again != rotated {
				t.Fatalf("retry %d within the grace: a new pair, want the first rotation's", i+1)
			}
		}
		next := usable(t, env, "the retried pair", rotated)
		wantReuse(t, "the first token once its successor was rotated", refresh(t, env, first.refresh))
		c.expect(false, map[string]string{"access token of the session ended by reuse": next.access})
		wantEnded(t, "the latest refresh token of that session", refresh(t, env, next.refresh))
		if d := metrics(t, env)[reuseMetric] - reuses; d != 1 {
			t.Errorf("%s grew by %v, want 1", reuseMetric, d)
		}

		// Five copies of one refresh at once: the same pair for each.
		first = c.login("admin@example.com", revocationPassword, "admin")
		answers := together(t, env, 5, "/auth/refresh", map[string]any{"refresh_token": first.refresh}, "")
		rotated = pairOf(t, answers[0])
		for _, a := range answers[1:] {
			if pairOf(t, a) != rotated {
				t.Fatal("copies of one refresh sent at once got different pairs")
			}
		}
		usable(t, env, "the pair of copies sent at once", rotated)

		// After the grace, the retry is reuse.
		first = c.login("admin@example.com", revocationPassword, "admin")
		rotated = pairOf(t, refresh(t, env, first.refresh))
		reuses = metrics(t, env)[reuseMetric]
		time.Sleep(grace + 500*time.Millisecond)
		wantReuse(t, "a retry after the grace", refresh(t, env, first.refresh))
		c.expect(false, map[string]string{"access token of the session ended after the grace": rotated.access})
		wantEnded(t, "its successor", refresh(t, env, rotated.refresh))
		if d := metrics(t, env)[reuseMetric] - reuses; d != 1 {
			t.Errorf("%s grew by %v after the grace, want 1", reuseMetric, d)
		}
	})
}

// TestRefreshReuseWithoutGrace: by default (no grace) a retried refresh is reuse as before, even
// sent at the same time as the first: the session ends and the counter, there at 0 from the
// first scrape, counts it.
func TestRefreshReuseWithoutGrace(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		if v, ok := metrics(t, env)[reuseMetric]; !ok || v != 0 {
			t.Fatalf("first scrape: %s = %v (present %v), want 0", reuseMetric, v, ok)
		}
		c := revocationClient{t, env}
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)

		first := c.login("admin@example.com", revocationPassword, "admin")
		rotated := pairOf(t, refresh(t, env, first.refresh))
		wantReuse(t, "a retry", refresh(t, env, first.refresh))
		c.expect(false, map[string]string{"access token of the session ended by the retry": rotated.access})

		first = c.login("admin@example.com", revocationPassword, "admin")
		count := map[int]int{}
		for _, a := range together(t, env, 2, "/auth/refresh", map[string]any{"refresh_token": first.refresh}, "") {
			count[a.status]++
			if a.status == http.StatusOK {
				rotated = pairOf(t, a)
			} else {
				wantReuse(t, "the second of two copies sent at once", a)
			}
		}
		if count[http.StatusOK] != 1 {
			t.Fatalf("two copies at once: %v, want one 200 and one reuse 401", count)
		}
		c.expect(false, map[string]string{"access token of the session ended by the copy": rotated.access})
		if v := metrics(t, env)[reuseMetric]; v != 2 {
			t.Errorf("%s = %v, want 2", reuseMetric, v)
		}
	})
}

// TestRefreshRetryOnOtherReplica: the client's retry reaches another replica than its first try
// (PostgreSQL and Redis shared): within the grace it gets the same pair there, and after it the
// reuse ends the session on both replicas.
func TestRefreshRetryOnOtherReplica(t *testing.T) {
	const grace = 3 * time.Second
	cfg := map[string]any{"jwt.refresh_reuse_grace": grace.String()}
	backend := postgres(t)
	a := testkit.Start(t, backend, service(cfg))
	b := replica(t, backend, a, cfg)
	a.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)

	first := revocationClient{t, a}.login("admin@example.com", revocationPassword, "admin")
	rotated := pairOf(t, refresh(t, a, first.refresh))
	if again := pairOf(t, refresh(t, b, first.refresh)); again != rotated {
		t.Fatal("the retry on the other replica got a new pair, want the first rotation's")
	}
	revocationClient{t, b}.expect(true, map[string]string{"the pair's access token on the other replica": rotated.access})

	reuses := metrics(t, b)[reuseMetric]
	time.Sleep(grace + 500*time.Millisecond)
	wantReuse(t, "a retry on the other replica after the grace", refresh(t, b, first.refresh))
	revocationClient{t, a}.expect(false, map[string]string{"the pair's access token on the first replica": rotated.access})
	if d := metrics(t, b)[reuseMetric] - reuses; d != 1 {
		t.Errorf("%s grew by %v on the replica that detected the reuse, want 1", reuseMetric, d)
	}
}
