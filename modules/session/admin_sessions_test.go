package session_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Two clients of one admin, as the listing must tell them apart. The second user agent holds
// what a client can put through HTTP that a screen must not show: a tab, a right-to-left
// override, a C1 control, a byte that is not UTF-8, and far more than 256 bytes.
const (
	desktopIP, desktopUA = "203.0.113.77", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"
	phoneIP              = "2001:db8:abcd:12::1"
)

var (
	phoneUA   = "Agent\tTab\u202eRTL\u009b[31m\xffbad" + strings.Repeat("x", 1000)
	phoneSeen = ("Agent TabRTL[31mbad" + strings.Repeat("x", 1000))[:256]
)

func sessionOpts() testkit.Options {
	return opts(map[string]any{"ratelimit.trusted_proxies": []string{"127.0.0.1/32"}})
}

func loginFrom(t *testing.T, env *testkit.Env, email, password, ip, ua string) (access, refresh string) {
	t.Helper()
	r := env.Client.Do("POST", "/auth/login", map[string]any{"email": email, "password": password, "role": "admin"},
		"X-Forwarded-For", ip, "User-Agent", ua)
	if r.Status != 200 {
		t.Fatalf("login from %s: %d %s", ip, r.Status, r.Body)
	}
	m := r.JSON(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

type listed struct {
	ID, Lane, IPPrefix, UserAgent string
	Created, Refreshed            bool
	Current                       bool
}

func listSessions(t *testing.T, env *testkit.Env, access string) []listed {
	t.Helper()
	r := env.Client.Do("GET", "/admin/sessions", nil, testkit.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var raw []map[string]any
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatalf("list: %v %s", err, r.Body)
	}
	out := make([]listed, len(raw))
	for i, m := range raw {
		str := func(k string) string { s, _ := m[k].(string); return s }
		out[i] = listed{ID: str("session_id"), Lane: str("lane"), IPPrefix: str("ip_prefix"), UserAgent: str("user_agent"),
			Created: m["created_at"] != nil, Refreshed: m["last_refreshed_at"] != nil, Current: m["current"] == true}
	}
	return out
}

func sessionOf(t *testing.T, env *testkit.Env, token string) string {
	t.Helper()
	ok, claims := env.Verify(t, token)
	if !ok {
		t.Fatal("token does not verify")
	}
	return claims["sid"].(string)
}

// TestAdminSessions is ASVS 3.3.4: an admin sees their sessions, with what tells them apart and
// no more personal data than that, and ends any of them with its tokens at once.
func TestAdminSessions(t *testing.T) {
	testkit.ForEachBackend(t, sessionOpts(), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		id := env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		env.User(t, "other@example.com", "admin-pass-2", "admin", nil, 0)
		desk, _ := loginFrom(t, env, "admin@example.com", "admin-pass-1", desktopIP, desktopUA)
		phoneAccess, phoneRefresh := loginFrom(t, env, "admin@example.com", "admin-pass-1", phoneIP, phoneUA)
		deskSID, phoneSID := sessionOf(t, env, desk), sessionOf(t, env, phoneAccess)
		// An offline token the phone's session asked for ends with it.
		offline, _, err := env.Tokens.Issue(tokens.Claims{Subject: strconv.FormatInt(id, 10), Role: "admin", Type: tokens.TypeOffline, Session: phoneSID}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}

		// The phone refreshes once: its listing says when.
		r := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": phoneRefresh})
		if r.Status != 200 {
			t.Fatalf("refresh: %d", r.Status)
		}
		phoneAccess, phoneRefresh = r.JSON(t)["access_token"].(string), r.JSON(t)["refresh_token"].(string)

		got := listSessions(t, env, desk)
		want := map[string]listed{
			deskSID:  {ID: deskSID, Lane: "password", IPPrefix: "203.0.113.0/24", UserAgent: desktopUA, Created: true, Current: true},
			phoneSID: {ID: phoneSID, Lane: "password", IPPrefix: "2001:db8:abcd::/48", UserAgent: phoneSeen, Created: true, Refreshed: true},
		}
		if len(got) != 2 {
			t.Fatalf("listing: %+v", got)
		}
		for _, s := range got {
			if s != want[s.ID] {
				t.Errorf("session %s:\n got %+v\nwant %+v", s.ID, s, want[s.ID])
			}
		}
		for _, s := range listSessions(t, env, phoneAccess) {
			if s.Current != (s.ID == phoneSID) {
				t.Errorf("from the phone, %s current=%v", s.ID, s.Current)
			}
		}

		// Path ids are checked as pydantic would; an id that is not the caller's is not found.
		r = c.Do("DELETE", "/admin/sessions/abc", nil, testkit.Bearer(desk)...)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"loc":["path","session_id"]`) || !strings.Contains(string(r.Body), "string_pattern_mismatch") {
			t.Fatalf("malformed id: %d %s", r.Status, r.Body)
		}
		other, _ := loginFrom(t, env, "other@example.com", "admin-pass-2", desktopIP, desktopUA)
		for _, sid := range []string{sessionOf(t, env, other), tokens.NewID()} {
			if r := c.Do("DELETE", "/admin/sessions/"+sid, nil, testkit.Bearer(desk)...); r.Status != 404 {
				t.Fatalf("someone else's or no session: %d %s", r.Status, r.Body)
			}
		}
		if ok, _ := env.Verify(t, other); !ok {
			t.Fatal("the other admin's session ended")
		}

		// Ending the phone's session ends its tokens at once, the desktop's stays.
		if r := c.Do("DELETE", "/admin/sessions/"+phoneSID, nil, testkit.Bearer(desk)...); r.Status != 200 {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		for what, tok := range map[string]string{"access": phoneAccess, "refresh": phoneRefresh, "offline": offline} {
			if ok, _ := env.Verify(t, tok); ok {
				t.Errorf("%s token of an ended session verifies", what)
			}
		}
		if r := c.Do("POST", "/auth/refresh", map[string]any{"refresh_token": phoneRefresh}); r.Status != 401 {
			t.Fatalf("refresh of an ended session: %d", r.Status)
		}
		if r := c.Do("DELETE", "/admin/sessions/"+phoneSID, nil, testkit.Bearer(desk)...); r.Status != 404 {
			t.Fatalf("ending it again: %d", r.Status)
		}
		if got := listSessions(t, env, desk); len(got) != 1 || got[0].ID != deskSID {
			t.Fatalf("after ending one: %+v", got)
		}

		// All but the current one.
		second, _ := loginFrom(t, env, "admin@example.com", "admin-pass-1", phoneIP, "second")
		third, thirdRefresh := loginFrom(t, env, "admin@example.com", "admin-pass-1", phoneIP, "third")
		r = c.Do("DELETE", "/admin/sessions", nil, testkit.Bearer(desk)...)
		if r.Status != 200 || r.JSON(t)["ended"] != float64(2) {
			t.Fatalf("end others: %d %s", r.Status, r.Body)
		}
		for _, tok := range []string{second, third, thirdRefresh} {
			if ok, _ := env.Verify(t, tok); ok {
				t.Error("a token of another session survives ending all others")
			}
		}
		if ok, _ := env.Verify(t, desk); !ok {
			t.Fatal("ending all others ended the current one")
		}
		if got := listSessions(t, env, desk); len(got) != 1 || !got[0].Current {
			t.Fatalf("after ending others: %+v", got)
		}
		// Staff only, and only with a token.
		if r := c.Do("GET", "/admin/sessions", nil); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
	})
}

// TestEndOthersNeedsFreshMFA: an admin with a second factor ends every other session only with a
// token that carries a recent TOTP verification, the answer of the core's freshness guard.
func TestEndOthersNeedsFreshMFA(t *testing.T) {
	testkit.ForEachBackend(t, sessionOpts(), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		access, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		r := c.Do("POST", "/admin/mfa/setup", nil, testkit.Bearer(access)...)
		if r.Status != 200 {
			t.Fatalf("setup: %d %s", r.Status, r.Body)
		}
		code, err := totp.GenerateCode(r.JSON(t)["secret"].(string), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r = c.Do("POST", "/admin/mfa/verify", map[string]any{"code": code}, testkit.Bearer(access)...)
		if r.Status != 200 {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
		fresh := r.JSON(t)["access_token"].(string)

		stale, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		r = c.Do("DELETE", "/admin/sessions", nil, testkit.Bearer(stale)...)
		if r.Status != 403 || !strings.Contains(r.Detail(t), "MFA") {
			t.Fatalf("without fresh MFA: %d %s", r.Status, r.Body)
		}
		if ok, _ := env.Verify(t, access); !ok {
			t.Fatal("a refused request ended sessions")
		}
		// Ending one session needs no more than the bearer: it is the caller's own.
		if r := c.Do("DELETE", "/admin/sessions/"+sessionOf(t, env, access), nil, testkit.Bearer(stale)...); r.Status != 200 {
			t.Fatalf("end one without fresh MFA: %d %s", r.Status, r.Body)
		}
		r = c.Do("DELETE", "/admin/sessions", nil, testkit.Bearer(fresh)...)
		if r.Status != 200 || r.JSON(t)["ended"] != float64(1) {
			t.Fatalf("with fresh MFA: %d %s", r.Status, r.Body)
		}
		if ok, _ := env.Verify(t, stale); ok {
			t.Fatal("the password-only session survives")
		}
		got := listSessions(t, env, fresh)
		if len(got) != 1 || !got[0].Current || got[0].Lane != "mfa" {
			t.Fatalf("after ending others: %+v", got)
		}
	})
}

// TestEndedSessionReachesReplicas: replica B has the session cached from earlier verifications;
// ending it on replica A ends it on B at once, and B lists what A started.
func TestEndedSessionReachesReplicas(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		if b.Name != "postgres" { // several replicas need shared state
			continue
		}
		a := testkit.Start(t, b, sessionOpts())
		other := testkit.Start(t, b, opts(map[string]any{"redis.prefix": a.RedisPrefix, "ratelimit.trusted_proxies": []string{"127.0.0.1/32"}}))
		a.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		keep, _ := loginFrom(t, a, "admin@example.com", "admin-pass-1", desktopIP, desktopUA)
		gone, _ := loginFrom(t, a, "admin@example.com", "admin-pass-1", phoneIP, "phone")
		for i := 0; i < 3; i++ {
			if ok, _ := other.Verify(t, gone); !ok {
				t.Fatal("access token does not verify on the other replica")
			}
		}
		if got := listSessions(t, other, keep); len(got) != 2 {
			t.Fatalf("the other replica lists %+v", got)
		}
		if r := a.Client.Do("DELETE", "/admin/sessions/"+sessionOf(t, a, gone), nil, testkit.Bearer(keep)...); r.Status != 200 {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		if ok, _ := other.Verify(t, gone); ok {
			t.Fatal("an ended session still verifies on the replica that had cached it")
		}
		if r := other.Client.Do("GET", "/admin/me", nil, testkit.Bearer(gone)...); r.Status != 401 {
			t.Fatalf("ended bearer accepted by the other replica: %d", r.Status)
		}
	}
}
