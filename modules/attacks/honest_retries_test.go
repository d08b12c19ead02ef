package attacks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// Honest retries (NOTES.md, "Hardening decisions": a code consumed by a successful verification
// is not counted as a wrong guess when it arrives again). Before, twenty copies of the right
// phone code or admin TOTP code sent at once (a double tap, a client retrying) gave one success
// and nineteen counted failures, which locked the number for an hour or the admin's MFA for 15
// minutes. Wrong codes still count and the caps still hold; a consumed code still never succeeds
// twice. refresh_grace_test.go is the same for a retried refresh.

// reply is one whole answer.
type reply struct {
	status     int
	detail     string // {"detail": "..."} of an error answer
	body       map[string]any
	retryAfter string
}

// send posts body to path from a client IP no other request used, with a bearer when given,
// and checks the answer against the contract. It is safe from any goroutine.
func send(t *testing.T, env *testkit.Env, path string, body any, bearer string) (reply, error) {
	resp, err := postFromNewIP(context.Background(), t, env, path, body, bearer)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.Status, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.Unmarshal(resp.Body, &r.body); err != nil {
		return reply{}, fmt.Errorf("POST %s → %d: body %q: %w", path, resp.Status, resp.Body, err)
	}
	r.detail, _ = r.body["detail"].(string)
	return r, nil
}

func mustSend(t *testing.T, env *testkit.Env, path string, body any, bearer string) reply {
	t.Helper()
	r, err := send(t, env, path, body, bearer)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// together sends n copies of one request at once (all released together) and returns the answers.
func together(t *testing.T, env *testkit.Env, n int, path string, body any, bearer string) []reply {
	t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
		out   []reply
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := send(t, env, path, body, bearer)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if len(out) != n {
		t.Fatalf("%d of %d requests answered", len(out), n)
	}
	return out
}

// wantOneWinner checks a burst of the right code: one 200, every other answer the 401 a wrong
// code gets (badDetail), word for word.
func wantOneWinner(t *testing.T, answers []reply, badDetail string) reply {
	t.Helper()
	var won []reply
	for _, a := range answers {
		switch {
		case a.status == http.StatusOK:
			won = append(won, a)
		case a.status != http.StatusUnauthorized || a.detail != badDetail:
			t.Errorf("a copy of the right code: %d %q, want 200 once, else 401 %q", a.status, a.detail, badDetail)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d copies of the right code succeeded, want exactly 1", len(won), len(answers))
	}
	return won[0]
}

// smsGateway is an SMS gateway behind the webhook provider: it keeps the last code sent to each
// number.
type smsGateway struct {
	srv  *httptest.Server
	mu   sync.Mutex
	last map[string]string
}

func newSMSGateway(t *testing.T) *smsGateway {
	g := &smsGateway{last: map[string]string{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Code string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("sms gateway: %v", err)
		}
		g.mu.Lock()
		g.last[m.To] = m.Code
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *smsGateway) config() map[string]any {
	return map[string]any{"modules.phone_otp.sms.provider": "webhook", "modules.phone_otp.sms.webhook.url": g.srv.URL + "/send"}
}

// newCode has a code sent to phone and returns it.
func (g *smsGateway) newCode(t *testing.T, env *testkit.Env, phone string) string {
	t.Helper()
	if r := mustSend(t, env, "/auth/login/phone", map[string]any{"phone": phone}, ""); r.status != http.StatusOK {
		t.Fatalf("code request for %s: %d %v", phone, r.status, r.body)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last[phone]
}

// otherCode is a 6-digit code that is none of codes.
func otherCode(codes ...string) string {
	for d := 0; ; d++ {
		c := fmt.Sprintf("%06d", d*111111%1_000_000)
		taken := false
		for _, x := range codes {
			taken = taken || x == c
		}
		if !taken {
			return c
		}
	}
}

// TestRightOTPBurstIsNoGuess: 20 copies of the right phone code at once, then 19 more one by one
// (a client retrying): one login, and every other copy the wrong-code 401 without counting. The
// number is not limited afterwards: a new code is sent and logs in. Wrong codes still count, a
// burst of them still voids the code after phone_otp.max_attempts (5), and
// phone_otp.failures_per_hour (10) of them still limit the number.
func TestRightOTPBurstIsNoGuess(t *testing.T) {
	sms := newSMSGateway(t)
	testkit.ForEachBackend(t, service(sms.config()), func(t *testing.T, env *testkit.Env) {
		const phone, path = "+12025550177", "/auth/login/phone/verify"
		badDetail := mustSend(t, env, path, map[string]any{"phone": "+12025550178", "code": "123456"}, "").detail

		code := sms.newCode(t, env, phone)
		right := map[string]any{"phone": phone, "code": code}
		wantOneWinner(t, together(t, env, 20, path, right, ""), badDetail)
		for i := range 19 {
			if r := mustSend(t, env, path, right, ""); r.status != http.StatusUnauthorized || r.detail != badDetail {
				t.Fatalf("the used code again (%d): %d %q, want 401 %q", i+1, r.status, r.detail, badDetail)
			}
		}

		fresh := sms.newCode(t, env, phone) // refused (429) if the copies had counted
		if r := mustSend(t, env, path, map[string]any{"phone": phone, "code": fresh}, ""); r.status != http.StatusOK {
			t.Fatalf("a new code after the copies: %d %v", r.status, r.body)
		}

		// Eight different wrong codes at once at a live code: the first five use up its tries,
		// so the right one is refused after them, and all nine count; a copy of a code taken
		// earlier still does not.
		code = sms.newCode(t, env, phone)
		n, _ := strconv.Atoi(code)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := send(t, env, path, map[string]any{"phone": phone, "code": fmt.Sprintf("%06d", (n+1+i)%1_000_000)}, "")
				if err != nil || r.status != http.StatusUnauthorized {
					t.Errorf("wrong code at once: %+v %v", r, err)
				}
			}()
		}
		wg.Wait()
		if r := mustSend(t, env, path, right, ""); r.status != http.StatusUnauthorized {
			t.Fatalf("the code taken first, once more: %d", r.status)
		}
		if r := mustSend(t, env, path, map[string]any{"phone": phone, "code": code}, ""); r.status != http.StatusUnauthorized {
			t.Fatalf("the right code after five wrong tries at once: %d %v, want 401 (void)", r.status, r.body)
		}
		if r := mustSend(t, env, path, map[string]any{"phone": phone, "code": otherCode(code)}, ""); r.status != http.StatusUnauthorized {
			t.Fatalf("10th failure: %d", r.status)
		}
		r := mustSend(t, env, path, map[string]any{"phone": phone, "code": otherCode(code)}, "")
		if r.status != http.StatusTooManyRequests || r.retryAfter == "" {
			t.Fatalf("after 10 failures: %d, Retry-After %q; want 429 with Retry-After", r.status, r.retryAfter)
		}
	})
}

func totpAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongTOTP is a code that no step within reach of now accepts.
func wrongTOTP(t *testing.T, secret string) string {
	now := time.Now()
	return otherCode(totpAt(t, secret, now.Add(-60*time.Second)), totpAt(t, secret, now.Add(-30*time.Second)),
		totpAt(t, secret, now), totpAt(t, secret, now.Add(30*time.Second)), totpAt(t, secret, now.Add(60*time.Second)))
}

// TestRightTOTPBurstIsNoGuess: 20 copies of an admin's right TOTP code at once, then 19 more one
// by one: one verification, every other copy the wrong-code 401 without counting, and the
// code never succeeds twice. MFA is not locked afterwards (the next step's code verifies); ten
// wrong codes still lock it (429, to the right code too).
func TestRightTOTPBurstIsNoGuess(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		const path = "/admin/mfa/verify"
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
		access := revocationClient{t, env}.login("admin@example.com", revocationPassword, "admin").access
		r := mustSend(t, env, "/admin/mfa/setup", nil, access)
		if r.status != http.StatusOK {
			t.Fatalf("setup: %d %v", r.status, r.body)
		}
		secret := r.body["secret"].(string)

		// A wrong code's answer; the success below starts the count over.
		badDetail := mustSend(t, env, path, map[string]any{"code": wrongTOTP(t, secret)}, access).detail

		right := map[string]any{"code": totpAt(t, secret, time.Now())}
		wantOneWinner(t, together(t, env, 20, path, right, access), badDetail)
		for i := range 19 {
			if r := mustSend(t, env, path, right, access); r.status != http.StatusUnauthorized || r.detail != badDetail {
				t.Fatalf("the used code again (%d): %d %q, want 401 %q", i+1, r.status, r.detail, badDetail)
			}
		}

		next := map[string]any{"code": totpAt(t, secret, time.Now().Add(30*time.Second))}
		if r := mustSend(t, env, path, next, access); r.status != http.StatusOK {
			t.Fatalf("the next step's code after the copies: %d %v", r.status, r.body)
		}

		for i := range 10 {
			r := mustSend(t, env, path, map[string]any{"code": wrongTOTP(t, secret)}, access)
			if r.status != http.StatusUnauthorized || r.detail != badDetail {
				t.Fatalf("wrong code %d: %d %q, want 401 %q (the copies' answer)", i+1, r.status, r.detail, badDetail)
			}
		}
		r = mustSend(t, env, path, map[string]any{"code": totpAt(t, secret, time.Now().Add(30*time.Second))}, access)
		if r.status != http.StatusTooManyRequests || r.retryAfter == "" {
			t.Fatalf("a current code after 10 wrong ones: %d, Retry-After %q; want 429 with Retry-After", r.status, r.retryAfter)
		}
	})
}
