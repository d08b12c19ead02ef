package attacks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/config"
	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/state/statetest"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Tokens can be revoked, and one primitive does it (NOTES.md, "Hardening decisions"): a durable
// per-subject "not before" time, in the database, cached by each replica and pushed to all of
// them. Before it, POST /tokens/offline turned a stolen 15-minute admin access token into a
// 72-hour offline token that outlived logout, a password reset and `users revoke-session`, and
// `devices archive` left a device's issued tokens valid. Here each way of ending tokens is
// attacked with the tokens a thief would hold.

const revocationPassword = "right-pass-123"

// revocationClient sends every request from a fresh client IP, so the per-IP limits of the
// routes a test hammers never decide its outcome.
type revocationClient struct {
	t   *testing.T
	env *testkit.Env
}

func (c revocationClient) do(method, path string, body any, bearer string) *testkit.Response {
	c.t.Helper()
	h := fromNewIP()
	if bearer != "" {
		h = append(h, testkit.Bearer(bearer)...)
	}
	return c.env.Client.Do(method, path, body, h...)
}

type tokenPair struct{ access, refresh string }

func (c revocationClient) login(email, password, role string) tokenPair {
	c.t.Helper()
	r := c.do("POST", "/auth/login", map[string]any{"email": email, "password": password, "role": role}, "")
	if r.Status != 200 {
		c.t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	m := r.JSON(c.t)
	return tokenPair{m["access_token"].(string), m["refresh_token"].(string)}
}

// offline asks POST /tokens/offline for a token of event (and device, when not 0).
func (c revocationClient) offline(access string, event, device int64) string {
	c.t.Helper()
	body := map[string]any{"event_id": event}
	if device != 0 {
		body["device_id"] = strconv.FormatInt(device, 10)
	}
	r := c.do("POST", "/tokens/offline", body, access)
	if r.Status != 200 {
		c.t.Fatalf("offline token: %d %s", r.Status, r.Body)
	}
	return r.JSON(c.t)["offline_token"].(string)
}

func (c revocationClient) valid(token string) (bool, map[string]any) {
	c.t.Helper()
	r := c.do("POST", "/tokens/verify", map[string]any{"token": token}, "")
	if r.Status != 200 {
		c.t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	m := r.JSON(c.t)
	claims, _ := m["claims"].(map[string]any)
	return m["valid"] == true, claims
}

// expect fails the test for each named token whose validity is not want.
func (c revocationClient) expect(want bool, tokens map[string]string) {
	c.t.Helper()
	for what, tok := range tokens {
		if ok, claims := c.valid(tok); ok != want {
			c.t.Errorf("%s: valid %v, want %v (claims %v)", what, ok, want, claims)
		}
	}
}

// legacyOffline signs an offline token as the previous release issued them: no sid, so no
// session ends it and only the subject's not-before time can.
func legacyOffline(t *testing.T, env *testkit.Env, sub, role string, event int64) string {
	t.Helper()
	tok, _, err := env.Tokens.Issue(tokens.Claims{Subject: sub, Type: tokens.TypeOffline, Role: role, EventID: &event}, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// revoker is what `users revoke-session` and `devices archive` run, over the server's database
// and state store.
func revoker(t *testing.T, env *testkit.Env) *core.Revoker {
	t.Helper()
	var cfg config.Core
	cfg.Redis.CacheTTL = 2 * time.Second
	cfg.JWT.AccessTTL, cfg.JWT.RefreshTTL = 15*time.Minute, 7*24*time.Hour
	r, err := core.OpenRevoker(context.Background(), env.DB, env.State, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestOfflineTokenEndsWithItsSession: an admin's offline token carries the sid of the session
// that asked for it and stops verifying when that session logs out, while the offline token of
// another session of the same admin keeps working. Admins still get offline tokens.
func TestOfflineTokenEndsWithItsSession(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		ev := env.Event(t, "Festival")
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
		stolen := c.login("admin@example.com", revocationPassword, "admin")
		other := c.login("admin@example.com", revocationPassword, "admin")

		offline := c.offline(stolen.access, ev, 0)
		_, access := c.valid(stolen.access)
		if ok, claims := c.valid(offline); !ok || claims["sid"] == nil || claims["sid"] != access["sid"] || claims["role"] != "admin" {
			t.Fatalf("offline token: valid %v, claims %v; want the admin's, with the sid %v of its session", ok, claims, access["sid"])
		}
		kept := c.offline(other.access, ev, 0)

		if r := c.do("POST", "/auth/logout", map[string]any{"refresh_token": stolen.refresh}, stolen.access); r.Status != 200 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		c.expect(false, map[string]string{"offline token of the logged-out session": offline, "its access token": stolen.access})
		c.expect(true, map[string]string{"offline token of the admin's other session": kept})
	})
}

// TestPasswordResetEndsAdminOfflineTokens: a successful reset (through the real mail) ends every
// token the admin held: sessions, offline tokens, and offline tokens without a session (as the
// previous release issued them); a login with the new password right after works.
func TestPasswordResetEndsAdminOfflineTokens(t *testing.T) {
	mp := testkit.NewMailpit(t)
	const link = "https://admin.attack.test/reset?token="
	cfg := mp.Config(t)
	cfg["modules.password_reset.url_template"] = link + "{token}"
	testkit.ForEachBackend(t, service(cfg), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		ev := env.Event(t, "Festival")
		email := mp.Recipient(t, "revoked-admin", "attack-revocation.cashless.test")
		id := env.User(t, email, revocationPassword, "admin", nil, 0)
		stolen := c.login(email, revocationPassword, "admin")
		held := map[string]string{
			"access token":                stolen.access,
			"offline token":               c.offline(stolen.access, ev, 0),
			"offline token without a sid": legacyOffline(t, env, strconv.FormatInt(id, 10), "admin", ev),
		}
		c.expect(true, held)

		if r := c.do("POST", "/admin/password-reset/email-send", map[string]any{"email": email}, ""); r.Status != 200 {
			t.Fatalf("email-send: %d %s", r.Status, r.Body)
		}
		token := testkit.LinkToken(t, mp.Wait(t, email, 1)[0], link)
		const newPassword = "new-pass-456"
		if r := c.do("POST", "/admin/password-reset/"+token, map[string]any{"new_password": newPassword}, ""); r.Status != 200 {
			t.Fatalf("reset: %d %s", r.Status, r.Body)
		}

		c.expect(false, held)
		if r := c.do("POST", "/auth/refresh", map[string]any{"refresh_token": stolen.refresh}, ""); r.Status != 401 {
			t.Errorf("refresh after the reset: %d", r.Status)
		}
		fresh := c.login(email, newPassword, "admin")
		c.expect(true, map[string]string{"access token of a login right after the reset": fresh.access, "its offline token": c.offline(fresh.access, ev, 0)})
	})
}

// rawPost is a POST from a fresh client IP that reports instead of failing, for goroutines.
func rawPost(t *testing.T, env *testkit.Env, path string, body any, bearer string) (int, map[string]any, error) {
	r, err := postFromNewIP(context.Background(), t, env, path, body, bearer)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return r.Status, m, nil
}

// TestRevokeSessionEndsEverything: `users revoke-session` ends everything an operator holds —
// access and refresh tokens, offline tokens with and without a session, the ost_ token — while
// a thief holding the stolen pair keeps refreshing it and minting offline tokens as fast as it
// can: nothing the thief got, before or during the revocation, verifies afterwards. A login
// right after works, and gets a new ost_ token.
func TestRevokeSessionEndsEverything(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		ev := env.Event(t, "Festival")
		const email = "op@example.com"
		id := env.User(t, email, revocationPassword, "operator", &ev, 0)
		mac := "02:00:00:00:00:01"
		ost := func() string {
			t.Helper()
			r := c.do("POST", "/devices/operator-token", map[string]any{"email": email, "password": revocationPassword, "dev_type": "POS", "dev_mac": mac}, "")
			if r.Status != 200 {
				t.Fatalf("operator token: %d %s", r.Status, r.Body)
			}
			return r.JSON(t)["token"].(string)
		}
		stolen := c.login(email, revocationPassword, "operator")
		oldOST := ost()
		held := map[string]string{
			"access token":                stolen.access,
			"offline token":               c.offline(stolen.access, ev, 0),
			"offline token without a sid": legacyOffline(t, env, strconv.FormatInt(id, 10), "operator", ev),
			"ost_ token":                  oldOST,
		}
		c.expect(true, held)

		// The thief: refresh the stolen pair and mint offline tokens with it, in a loop.
		var (
			mu      sync.Mutex
			got     []string
			lastRef string
			errs    []error
		)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			pair := stolen
			for {
				select {
				case <-stop:
					mu.Lock()
					lastRef = pair.refresh
					mu.Unlock()
					return
				default:
				}
				status, m, err := rawPost(t, env, "/auth/refresh", map[string]any{"refresh_token": pair.refresh}, "")
				if err == nil && status == 200 {
					pair = tokenPair{m["access_token"].(string), m["refresh_token"].(string)}
					mu.Lock()
					got = append(got, pair.access)
					mu.Unlock()
				}
				status, m, err2 := rawPost(t, env, "/tokens/offline", map[string]any{"event_id": ev}, pair.access)
				if err2 == nil && status == 200 {
					mu.Lock()
					got = append(got, m["offline_token"].(string))
					mu.Unlock()
				}
				if err != nil || err2 != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("refresh: %v, offline: %v", err, err2))
					mu.Unlock()
					return
				}
			}
		}()
		time.Sleep(300 * time.Millisecond) // the thief is at work
		if err := revoker(t, env).RevokeUser(context.Background(), id); err != nil {
			t.Fatalf("revoke-session: %v", err)
		}
		time.Sleep(300 * time.Millisecond) // and keeps trying
		close(stop)
		<-done
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if len(got) == 0 {
			t.Fatal("the thief got nothing before the revocation: the test proves nothing")
		}
		for i, tok := range got {
			held[fmt.Sprintf("thief's token %d of %d", i+1, len(got))] = tok
		}
		c.expect(false, held)
		if r := c.do("POST", "/auth/refresh", map[string]any{"refresh_token": lastRef}, ""); r.Status != 401 {
			t.Errorf("the thief's last refresh token: %d", r.Status)
		}
		if r := c.do("POST", "/tokens/offline", map[string]any{"event_id": ev}, stolen.access); r.Status != 401 {
			t.Errorf("the revoked access token as a bearer: %d", r.Status)
		}

		fresh := c.login(email, revocationPassword, "operator")
		newOST := ost()
		if newOST == oldOST {
			t.Error("POST /devices/operator-token handed back the revoked ost_ token")
		}
		c.expect(true, map[string]string{"access token of a login right after": fresh.access, "its offline token": c.offline(fresh.access, ev, 0), "the new ost_ token": newOST})
	})
}

// TestArchiveDeviceEndsItsTokens: `devices archive` ends the device's tokens — its own (device
// login, POST /devices/{id}/token) and the offline tokens naming it — and no others.
func TestArchiveDeviceEndsItsTokens(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		ev := env.Event(t, "Festival")
		op := env.User(t, "op@example.com", revocationPassword, "operator", &ev, 0)
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
		retired := env.Device(t, ev, "02:00:00:00:00:0a", "Bar", &op)
		kept := env.Device(t, ev, "02:00:00:00:00:0b", "Food", &op)
		deviceLogin := func(mac string) *testkit.Response {
			return c.do("POST", "/auth/login/device", map[string]any{"dev_mac": mac, "event_id": ev}, "")
		}
		tokenOf := func(r *testkit.Response) string {
			t.Helper()
			if r.Status != 200 {
				t.Fatalf("device token: %d %s", r.Status, r.Body)
			}
			return r.JSON(t)["offline_token"].(string)
		}
		admin := c.login("admin@example.com", revocationPassword, "admin")
		ended := map[string]string{
			"device login":                         tokenOf(deviceLogin("02:00:00:00:00:0a")),
			"POST /devices/{id}/token":             tokenOf(c.do("POST", fmt.Sprintf("/devices/%d/token", retired), map[string]any{"operator_id": op}, admin.access)),
			"admin's offline token for the device": c.offline(admin.access, ev, retired),
		}
		untouched := map[string]string{
			"the other device's token":             tokenOf(deviceLogin("02:00:00:00:00:0b")),
			"admin's offline token for the other":  c.offline(admin.access, ev, kept),
			"admin's offline token with no device": c.offline(admin.access, ev, 0),
			"admin's access token":                 admin.access,
		}
		c.expect(true, ended)

		if err := revoker(t, env).ArchiveDevice(context.Background(), retired); err != nil {
			t.Fatalf("archive: %v", err)
		}
		c.expect(false, ended)
		c.expect(true, untouched)
		if r := deviceLogin("02:00:00:00:00:0a"); r.Status != 401 {
			t.Errorf("the archived device logs in: %d", r.Status)
		}
	})
}

// postgres is the PostgreSQL backend of this test: one database that several servers started
// with it share (with the first one's redis.prefix, its Redis keyspace too).
func postgres(t *testing.T) storetest.Backend {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		if b.Name == storetest.Postgres {
			return b
		}
	}
	t.Skip("several replicas need PostgreSQL and Redis")
	return storetest.Backend{}
}

// replica starts another server on b sharing first's Redis keyspace, with cfg.
func replica(t *testing.T, b storetest.Backend, first *testkit.Env, cfg map[string]any) *testkit.Env {
	t.Helper()
	shared := map[string]any{"redis.prefix": first.RedisPrefix}
	for k, v := range cfg {
		shared[k] = v
	}
	return testkit.Start(t, b, service(shared))
}

// TestRevocationReachesEveryReplicaAtOnce: replica B has the admin's tokens cached from earlier
// verifications; a password reset on replica A ends them on B at once, and so does a logout on
// A for the offline token of that session.
func TestRevocationReachesEveryReplicaAtOnce(t *testing.T) {
	mp := testkit.NewMailpit(t)
	const link = "https://admin.attack.test/reset?token="
	cfg := mp.Config(t)
	cfg["modules.password_reset.url_template"] = link + "{token}"
	backend := postgres(t)
	a := testkit.Start(t, backend, service(cfg))
	b := replica(t, backend, a, cfg)
	ca, cb := revocationClient{t, a}, revocationClient{t, b}
	ev := a.Event(t, "Festival")
	email := mp.Recipient(t, "replica-admin", "attack-revocation.cashless.test")
	id := a.User(t, email, revocationPassword, "admin", nil, 0)

	loggedOut := ca.login(email, revocationPassword, "admin")
	reset := ca.login(email, revocationPassword, "admin")
	byLogout := map[string]string{"offline token of the logged-out session": ca.offline(loggedOut.access, ev, 0)}
	byReset := map[string]string{
		"access token":                reset.access,
		"offline token":               ca.offline(reset.access, ev, 0),
		"offline token without a sid": legacyOffline(t, a, strconv.FormatInt(id, 10), "admin", ev),
	}
	for range 3 {
		cb.expect(true, byLogout)
		cb.expect(true, byReset)
	}

	if r := ca.do("POST", "/auth/logout", map[string]any{"refresh_token": loggedOut.refresh}, loggedOut.access); r.Status != 200 {
		t.Fatalf("logout: %d", r.Status)
	}
	cb.expect(false, byLogout)
	cb.expect(true, byReset)

	if r := ca.do("POST", "/admin/password-reset/email-send", map[string]any{"email": email}, ""); r.Status != 200 {
		t.Fatalf("email-send: %d %s", r.Status, r.Body)
	}
	token := testkit.LinkToken(t, mp.Wait(t, email, 1)[0], link)
	if r := ca.do("POST", "/admin/password-reset/"+token, map[string]any{"new_password": "new-pass-456"}, ""); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	cb.expect(false, byReset)
	if r := cb.do("GET", "/admin/me", nil, reset.access); r.Status != 401 {
		t.Errorf("the reset admin's bearer on the other replica: %d", r.Status)
	}
}

// TestRedisFlushDoesNotUnrevoke: the database is the truth. After a user and a device are
// revoked, the whole Redis keyspace of the deployment is flushed; neither a replica whose cache
// entries expired since nor a replica started afterwards accepts their tokens again, while a new
// login works.
func TestRedisFlushDoesNotUnrevoke(t *testing.T) {
	cfg := map[string]any{"redis.cache_ttl": "200ms"}
	backend := postgres(t)
	a := testkit.Start(t, backend, service(cfg))
	ca := revocationClient{t, a}
	ev := a.Event(t, "Festival")
	op := a.User(t, "op@example.com", revocationPassword, "operator", &ev, 0)
	admin := a.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
	device := a.Device(t, ev, "02:00:00:00:00:0c", "Bar", &op)
	r := ca.do("POST", "/auth/login/device", map[string]any{"dev_mac": "02:00:00:00:00:0c", "event_id": ev}, "")
	if r.Status != 200 {
		t.Fatalf("device login: %d %s", r.Status, r.Body)
	}
	revoked := map[string]string{
		"archived device's token":                r.JSON(t)["offline_token"].(string),
		"revoked admin's offline token (no sid)": legacyOffline(t, a, strconv.FormatInt(admin, 10), "admin", ev),
	}
	ca.expect(true, revoked)
	rv := revoker(t, a)
	if err := rv.RevokeUser(context.Background(), admin); err != nil {
		t.Fatal(err)
	}
	if err := rv.ArchiveDevice(context.Background(), device); err != nil {
		t.Fatal(err)
	}
	ca.expect(false, revoked)

	if err := statetest.DeletePrefix(context.Background(), statetest.Client(t), a.RedisPrefix); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // A's cached entries expire (redis.cache_ttl)
	ca.expect(false, revoked)
	later := revocationClient{t, replica(t, backend, a, cfg)}
	later.expect(false, revoked)
	fresh := later.login("admin@example.com", revocationPassword, "admin")
	later.expect(true, map[string]string{"access token of a new login": fresh.access, "its offline token": later.offline(fresh.access, ev, 0)})
}
