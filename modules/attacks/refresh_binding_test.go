package attacks_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/sessions"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// The event in a token comes from the server (NOTES.md, "Hardening decisions"), at a refresh too.
// Login enforces the binding, but a session opened before the rule — v0.1.0 let an unbound
// operator name any event — or before an account's binding changed would otherwise carry its
// event through refresh after refresh, and into offline tokens. A refresh re-reads the binding.
func TestRefreshCarriesNoStaleEvent(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		ctx := context.Background()
		ev, other := env.Event(t, "Festival"), env.Event(t, "Stadium")
		free := env.User(t, "op-free@example.com", revocationPassword, "operator", nil, 0)
		moved := env.User(t, "op-moved@example.com", revocationPassword, "operator", &ev, 0)
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)

		// The session v0.1.0 opened for the unbound operator who named an event, as it stands in
		// the state store after the upgrade.
		old := sessions.New(env.Tokens, env.State, sessions.Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour}, nil)
		p, err := old.Start(ctx, sessions.Principal{Subject: strconv.FormatInt(free, 10), Role: "operator", EventID: &ev})
		if err != nil {
			t.Fatal(err)
		}
		pre := tokenPair{p.AccessToken, p.RefreshToken}
		// A bound operator's session, then its binding moves to another event.
		bound := c.login("op-moved@example.com", revocationPassword, "operator")
		if _, err := env.DB.X.ExecContext(ctx, env.DB.X.Rebind(`UPDATE users SET event_id = ? WHERE id = ?`), other, moved); err != nil {
			t.Fatal(err)
		}
		// An unbound admin names an event at login: that stays its to carry.
		r := c.do("POST", "/auth/login", map[string]any{"email": "admin@example.com", "password": revocationPassword, "role": "admin", "event_id": ev}, "")
		if r.Status != 200 {
			t.Fatalf("admin login: %d %s", r.Status, r.Body)
		}
		admin := tokenPair{r.JSON(t)["access_token"].(string), r.JSON(t)["refresh_token"].(string)}

		for what, s := range map[string]tokenPair{"the pre-rule session of an unbound operator": pre, "the session of an operator bound elsewhere since": bound} {
			c.expect(true, map[string]string{what + ": access token": s.access})
			if r := c.do("POST", "/auth/refresh", map[string]any{"refresh_token": s.refresh}, ""); r.Status != 401 {
				t.Errorf("%s: refresh %d %s, want 401", what, r.Status, r.Body)
			}
			c.expect(false, map[string]string{what + ": access token, once refused a refresh": s.access})
			if r := c.do("POST", "/tokens/offline", map[string]any{"event_id": ev}, s.access); r.Status != 401 {
				t.Errorf("%s: offline token for the stale event: %d", what, r.Status)
			}
		}

		r = c.do("POST", "/auth/refresh", map[string]any{"refresh_token": admin.refresh}, "")
		if r.Status != 200 {
			t.Fatalf("admin refresh: %d %s", r.Status, r.Body)
		}
		if _, claims := c.valid(r.JSON(t)["access_token"].(string)); claims["event_id"] != float64(ev) {
			t.Errorf("the admin's refreshed claims %v, want event %d", claims, ev)
		}
		fresh := c.login("op-moved@example.com", revocationPassword, "operator")
		if _, claims := c.valid(fresh.access); claims["event_id"] != float64(other) {
			t.Errorf("the moved operator logs in with claims %v, want its new event %d", claims, other)
		}
	})
}
