package passwordreset_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/state"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
	"github.com/cashlessmedia/cashless-auth/modules/passwordreset"
)

func opts(cfg ...map[string]any) testkit.Options {
	merged := map[string]any{}
	for _, c := range cfg {
		for k, v := range c {
			merged[k] = v
		}
	}
	return testkit.Options{Plugins: modules.All(), Config: merged}
}

func sendReset(t *testing.T, env *testkit.Env, email string) *testkit.Response {
	t.Helper()
	return env.Client.Do("POST", "/admin/password-reset/email-send", map[string]any{"email": email})
}

func confirm(env *testkit.Env, tok, password string) *testkit.Response {
	return env.Client.Do("POST", "/admin/password-reset/"+tok, map[string]any{"new_password": password})
}

func hashOf(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// storedToken plants a reset token for userID directly, for the failure cases.
func storedToken(t *testing.T, env *testkit.Env, userID int64, expires time.Time) string {
	t.Helper()
	tok := randomToken()
	if _, err := passwordreset.NewResets(env.DB).Create(context.Background(), userID, hashOf(tok), expires); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestResetFlowThroughMailpit(t *testing.T) {
	mp := newMailpit(t)
	cfg := map[string]any{"ratelimit.routes.password.login": "100/minute"}
	testkit.ForEachBackend(t, opts(mp.config(t), cfg), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		addr := mp.recipient(t, "admin")
		id := env.User(t, addr, "old-pass-123", "admin", nil, 0)
		access, refresh := env.Login(t, addr, "old-pass-123", "admin")
		// Lock the account with ten wrong passwords: a completed reset lifts the lock.
		for i := 0; i < 10; i++ {
			c.Do("POST", "/auth/login", map[string]any{"email": addr, "password": "guess"})
		}
		if r := c.Do("POST", "/auth/login", map[string]any{"email": addr, "password": "old-pass-123"}); r.Status != 429 {
			t.Fatalf("account not locked: %d", r.Status)
		}

		r := sendReset(t, env, strings.ToUpper(addr))
		if r.Status != 200 || r.JSON(t)["message"] == "" {
			t.Fatalf("email-send: %d %s", r.Status, r.Body)
		}
		msgs := mp.wait(t, addr, 1)
		m := msgs[0]
		if m.From.Address != "no-reply@cashless.test" || len(m.To) != 1 || m.To[0].Address != addr || !strings.Contains(m.Subject, "password") {
			t.Fatalf("mail envelope: %+v", m)
		}
		first := token(t, m)
		if len(first) != 43 {
			t.Fatalf("token %q is not token_urlsafe(32)", first)
		}
		// Only the hash is stored.
		var stored []string
		if err := env.DB.X.Select(&stored, env.DB.X.Rebind(`SELECT token_hash FROM password_resets WHERE user_id = ?`), id); err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0] != hashOf(first) {
			t.Fatalf("stored %v, want the SHA-256 of the mailed token", stored)
		}

		sendReset(t, env, addr)
		second := token(t, mp.wait(t, addr, 2)[1])
		if second == first {
			t.Fatal("two resets mailed the same token")
		}

		// A bad body is a 422 and does not spend the token.
		if r := confirm(env, first, "short"); r.Status != 422 {
			t.Fatalf("short password: %d", r.Status)
		}
		r = confirm(env, first, "new-pass-456")
		if r.Status != 200 || r.JSON(t)["message"] == "" {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/auth/login", map[string]any{"email": addr, "password": "old-pass-123"}); r.Status != 401 {
			t.Fatalf("old password: %d", r.Status)
		}
		env.Login(t, addr, "new-pass-456", "admin")
		u, _ := store.NewUsers(env.DB).ByID(context.Background(), id)
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Fatalf("new hash is not argon2id: %.12s", u.PasswordHash)
		}

		// The sessions opened before the reset are gone.
		if r := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": refresh}); r.Status != 401 {
			t.Fatalf("old refresh token: %d", r.Status)
		}
		if r := c.Do("GET", "/admin/me", nil, testkit.Bearer(access)...); r.Status != 401 {
			t.Fatalf("old access token: %d", r.Status)
		}
		// Single use, and the other pending token was cleared.
		used := confirm(env, first, "another-pass-789")
		pending := confirm(env, second, "another-pass-789")
		if used.Status != 410 || pending.Status != 410 || used.Detail(t) != pending.Detail(t) {
			t.Fatalf("used token %d, cleared token %d", used.Status, pending.Status)
		}
	})
}

func TestNoMailForUnknownOrNonAdmin(t *testing.T) {
	mp := newMailpit(t)
	testkit.ForEachBackend(t, opts(mp.config(t)), func(t *testing.T, env *testkit.Env) {
		ev := env.Event(t, "Fest")
		admin := mp.recipient(t, "admin")
		operator := mp.recipient(t, "operator")
		unknown := mp.recipient(t, "unknown")
		disabled := mp.recipient(t, "disabled")
		env.User(t, admin, "admin-pass-1", "admin", nil, 0)
		env.User(t, operator, "op-pass-123", "operator", &ev, 0)
		off := env.User(t, disabled, "admin-pass-9", "admin", nil, 0)
		if err := store.NewUsers(env.DB).Disable(t.Context(), off); err != nil {
			t.Fatal(err)
		}

		var bodies []string
		for _, addr := range []string{unknown, operator, disabled, admin} {
			r := sendReset(t, env, addr)
			if r.Status != 200 {
				t.Fatalf("%s: %d", addr, r.Status)
			}
			bodies = append(bodies, string(r.Body))
		}
		if bodies[0] != bodies[1] || bodies[1] != bodies[2] || bodies[2] != bodies[3] {
			t.Fatalf("answers differ: %q", bodies)
		}
		// One worker sends in request order: once the admin's mail is in, any mail for the
		// two earlier requests would be too.
		mp.wait(t, admin, 1)
		for _, addr := range []string{unknown, operator, disabled} {
			if n := len(mp.search(t, addr)); n != 0 {
				t.Fatalf("%d mail(s) sent to %s", n, addr)
			}
		}
		for _, body := range []any{
			map[string]any{"email": "not-an-email"},
			map[string]any{},
			map[string]any{"email": admin, "extra": 1},
		} {
			if r := env.Client.Do("POST", "/admin/password-reset/email-send", body); r.Status != 422 {
				t.Fatalf("%v: %d", body, r.Status)
			}
		}
	})
}

// TestQuota: the quota counts requests per submitted address, admin or not, at request time:
// both addresses get 200 three times, then 429 with Retry-After, and the admin gets three mails.
func TestQuota(t *testing.T) {
	mp := newMailpit(t)
	testkit.ForEachBackend(t, opts(mp.config(t)), func(t *testing.T, env *testkit.Env) {
		admin := mp.recipient(t, "admin")
		unknown := mp.recipient(t, "unknown")
		env.User(t, admin, "admin-pass-1", "admin", nil, 0)
		for _, addr := range []string{admin, unknown} {
			for i := 0; i < 3; i++ {
				if r := sendReset(t, env, addr); r.Status != 200 {
					t.Fatalf("%s, request %d: %d", addr, i+1, r.Status)
				}
			}
			r := sendReset(t, env, addr)
			if r.Status != 429 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s, 4th request: %d %s", addr, r.Status, r.Body)
			}
			if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 3500 || s > 3600 {
				t.Fatalf("Retry-After %q, want the rest of the counter's hour", r.Header.Get("Retry-After"))
			}
		}
		mp.wait(t, admin, 3)
		// The worker sends in request order; the fourth request queued nothing.
		time.Sleep(200 * time.Millisecond)
		if n := len(mp.search(t, admin)); n != 3 {
			t.Fatalf("%d mails to the admin, want 3", n)
		}
	})
}

// TestQuotaCapacity: the in-process store keeps a bounded number of per-address counters; at the
// bound a new address, admin or not, gets the quota's 429 and no mail, while the addresses
// already counted keep their quota.
func TestQuotaCapacity(t *testing.T) {
	mp := newMailpit(t)
	var embedded *storetest.Backend
	for _, b := range storetest.Backends(t) {
		if b.Name == storetest.Embedded {
			embedded = &b
		}
	}
	if embedded == nil {
		t.Skip("the bound is the embedded backend's; it is not among the test backends")
	}
	env := testkit.Start(t, *embedded, opts(mp.config(t)))
	kl, ok := env.State.(state.KeyLimiter)
	if !ok {
		t.Fatalf("the embedded backend's state store %T does not bound its keys", env.State)
	}
	kl.LimitKeys("reset:quota:", 3) // the service sets 100,000; the same rule at a testable size
	admin := mp.recipient(t, "admin")
	env.User(t, admin, "admin-pass-1", "admin", nil, 0)
	for i := 0; i < 3; i++ {
		if r := sendReset(t, env, fmt.Sprintf("sprayed-%d@example.com", i)); r.Status != 200 {
			t.Fatalf("address %d: %d", i, r.Status)
		}
	}
	full := sendReset(t, env, admin)
	other := sendReset(t, env, "another@example.com")
	if full.Status != 429 || full.Header.Get("Retry-After") == "" || string(full.Body) != string(other.Body) || other.Status != 429 {
		t.Fatalf("new addresses at the bound: admin %d %s, unknown %d %s", full.Status, full.Body, other.Status, other.Body)
	}
	if r := sendReset(t, env, "sprayed-0@example.com"); r.Status != 200 {
		t.Fatalf("a counted address at the bound: %d", r.Status)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(mp.search(t, admin)); n != 0 {
		t.Fatalf("%d mail(s) to an admin refused at the bound", n)
	}
}

func TestConfirmFailuresAreAllGone(t *testing.T) {
	testkit.ForEachBackend(t, opts(), func(t *testing.T, env *testkit.Env) {
		ev := env.Event(t, "Fest")
		admin := env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		doomed := env.User(t, "doomed@example.com", "admin-pass-2", "admin", nil, 0)
		op := env.User(t, "op@example.com", "op-pass-123", "operator", &ev, 0)
		now := time.Now()

		valid := storedToken(t, env, admin, now.Add(30*time.Minute))
		if r := confirm(env, valid, "brand-new-pass"); r.Status != 200 {
			t.Fatalf("valid token: %d %s", r.Status, r.Body)
		}
		expired := storedToken(t, env, admin, now.Add(-time.Second))
		deleted := storedToken(t, env, doomed, now.Add(30*time.Minute))
		if err := store.NewUsers(env.DB).Delete(context.Background(), doomed); err != nil {
			t.Fatal(err)
		}
		notAdmin := storedToken(t, env, op, now.Add(30*time.Minute))
		// A token mailed before the account was disabled: the reset cannot re-enable it.
		off := env.User(t, "off@example.com", "admin-pass-3", "admin", nil, 0)
		disabled := storedToken(t, env, off, now.Add(30*time.Minute))
		if err := store.NewUsers(env.DB).Disable(context.Background(), off); err != nil {
			t.Fatal(err)
		}

		var details []string
		for name, tok := range map[string]string{"used": valid, "expired": expired, "admin deleted": deleted, "not an admin": notAdmin, "admin disabled": disabled, "unknown": randomToken(), "garbage": "x"} {
			r := confirm(env, tok, "brand-new-pass-2")
			if r.Status != 410 {
				t.Fatalf("%s token: %d %s", name, r.Status, r.Body)
			}
			details = append(details, r.Detail(t))
		}
		for _, d := range details {
			if d != details[0] {
				t.Fatalf("410 details differ: %q", details)
			}
		}
		// The operator's password did not change.
		env.Login(t, "op@example.com", "op-pass-123", "operator")

		for _, body := range []any{
			map[string]any{},
			map[string]any{"new_password": strings.Repeat("p", 129)},
			map[string]any{"new_password": "long-enough", "extra": true},
			map[string]any{"new_password": 12345678},
		} {
			if r := env.Client.Do("POST", "/admin/password-reset/"+randomToken(), body); r.Status != 422 {
				t.Fatalf("%v: %d", body, r.Status)
			}
		}
	})
}

// TestComparableLatency: a known admin's request must not take noticeably longer than an
// unknown address's, or the timing would reveal which e-mails are admins. Medians of a few
// interleaved requests, with a generous bound: this catches synchronous mail or hashing work,
// not microseconds.
func TestComparableLatency(t *testing.T) {
	mp := newMailpit(t)
	cfg := map[string]any{"modules.password_reset.quota_per_hour": 1000, "ratelimit.routes.password_reset.email_send": "1000/minute"}
	testkit.ForEachBackend(t, opts(mp.config(t), cfg), func(t *testing.T, env *testkit.Env) {
		admin := mp.recipient(t, "admin")
		unknown := mp.recipient(t, "unknown")
		env.User(t, admin, "admin-pass-1", "admin", nil, 0)
		const n = 7
		var known, other []time.Duration
		for i := 0; i < n; i++ {
			for _, addr := range []string{admin, unknown} {
				start := time.Now()
				if r := sendReset(t, env, addr); r.Status != 200 {
					t.Fatalf("%s: %d", addr, r.Status)
				}
				d := time.Since(start)
				if addr == admin {
					known = append(known, d)
				} else {
					other = append(other, d)
				}
			}
		}
		mk, mu := median(known), median(other)
		if mk > 3*mu+50*time.Millisecond {
			t.Fatalf("known admin median %v vs unknown %v: the answer reveals the account", mk, mu)
		}
		t.Logf("median latency: known %v, unknown %v", mk, mu)
	})
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestMailFailureIsNotSurfaced: an unreachable SMTP server changes nothing for the caller; the
// failure is counted for monitoring.
func TestMailFailureIsNotSurfaced(t *testing.T) {
	cfg := map[string]any{"modules.password_reset.mail.provider": "smtp", "modules.password_reset.mail.smtp.host": "127.0.0.1", "modules.password_reset.mail.smtp.port": closedPort(t), "modules.password_reset.mail.smtp.tls": "none"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		unknown := sendReset(t, env, "nobody@example.com")
		r := sendReset(t, env, "admin@example.com")
		if r.Status != 200 || string(r.Body) != string(unknown.Body) {
			t.Fatalf("email-send with SMTP down: %d %s", r.Status, r.Body)
		}
		re := regexp.MustCompile(`cashless_auth_dependency_errors_total\{dependency="mail"\} (\d+)`)
		deadline := time.Now().Add(20 * time.Second)
		for {
			m := re.FindStringSubmatch(string(env.Client.Do("GET", "/metrics", nil).Body))
			if m != nil && m[1] != "0" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no mail dependency error counted")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestTokenNeverLogged captures the process log (info level, log mailer) through a reset and
// checks that neither the token nor the link nor the full address appears.
func TestTokenNeverLogged(t *testing.T) {
	logFile, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	// zap opens "stderr" when the logger is built: swap it for the server's start only.
	env := func() *testkit.Env {
		saved := os.Stderr
		os.Stderr = logFile
		defer func() { os.Stderr = saved }()
		return testkit.Start(t, storetest.Backends(t)[0], opts(map[string]any{"log.level": "info", "modules.password_reset.url_template": linkPrefix + "{token}"}))
	}()

	const addr = "secret-admin@example.com"
	id := env.User(t, addr, "admin-pass-1", "admin", nil, 0)
	sendReset(t, env, addr)
	tok := storedToken(t, env, id, time.Now().Add(time.Hour))
	if r := confirm(env, tok, "new-pass-456"); r.Status != 200 {
		t.Fatalf("confirm: %d", r.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	var logs string
	for {
		b, _ := os.ReadFile(logFile.Name())
		logs = string(b)
		if strings.Contains(logs, "mail not delivered") && strings.Contains(logs, "/admin/password-reset/{token}") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expected log lines missing:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, secret := range []string{tok, "admin.cashless.test", addr, "token="} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "s***@example.com") {
		t.Fatalf("log mailer did not log the redacted recipient:\n%s", logs)
	}
}

func TestDisabled(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.password_reset.enabled": false}), func(t *testing.T, env *testkit.Env) {
		if r := sendReset(t, env, "admin@example.com"); r.Status != 404 {
			t.Fatalf("email-send with the module off: %d", r.Status)
		}
		if r := confirm(env, randomToken(), "new-pass-456"); r.Status != 404 {
			t.Fatalf("confirm with the module off: %d", r.Status)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	_, _, err := core.Load("", modules.All(), map[string]any{
		"modules.password_reset.mail.provider":  "pigeon",
		"modules.password_reset.mail.smtp.tls":  "ssl",
		"modules.password_reset.mail.from":      "not an address",
		"modules.password_reset.url_template":   "https://x.test/reset",
		"modules.password_reset.ttl":            "0s",
		"modules.password_reset.quota_per_hour": 0,
	})
	if err == nil {
		t.Fatal("bad mail/reset config accepted")
	}
	for _, key := range []string{"modules.password_reset.mail.provider", "modules.password_reset.mail.smtp.tls", "modules.password_reset.mail.from", "modules.password_reset.url_template", "modules.password_reset.ttl", "modules.password_reset.quota_per_hour"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	if _, _, err := core.Load("", modules.All(), map[string]any{"modules.password_reset.mail.provider": "smtp"}); err == nil || !strings.Contains(err.Error(), "modules.password_reset.mail.smtp.host") {
		t.Errorf("smtp without host: %v", err)
	}
	if _, _, err := core.Load("", modules.All(), map[string]any{"modules.password_reset.mail.smtp.bogus": 1}); err == nil {
		t.Error("unknown mail key accepted")
	}
	// The module's checks do not run when it is off.
	if _, _, err := core.Load("", modules.All(), map[string]any{"modules.password_reset.enabled": false, "modules.password_reset.mail.provider": "pigeon"}); err != nil {
		t.Errorf("disabled module validated: %v", err)
	}
}
