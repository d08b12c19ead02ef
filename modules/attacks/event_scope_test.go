package attacks_test

import (
	"fmt"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// The event in a token comes from the server (NOTES.md, "Hardening decisions"): the event_id of a
// staff token is the account's binding. Before the rule an operator created without an event
// logged in with any event_id, one naming no event included, and then got offline tokens for it.
// Here every route that puts a client-supplied event_id into a token is tried with an event the
// caller may not have, and with one that does not exist.
func TestEventScope(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		ev, other := env.Event(t, "Festival"), env.Event(t, "Stadium")
		missing := other + 1000 // names no event

		const pw = "right-pass-123"
		// num reads a number claim (-1 when it is none); str prints an optional event.
		num := func(v any) int64 {
			if f, ok := v.(float64); ok {
				return int64(f)
			}
			return -1
		}
		str := func(p *int64) string {
			if p == nil {
				return "none"
			}
			return fmt.Sprint(*p)
		}
		type account struct {
			email, role string
			id          int64
			binding     *int64
		}
		newAccount := func(name, role string, binding *int64) account {
			email := name + "@example.com"
			return account{email: email, role: role, id: env.User(t, email, pw, role, binding, 0), binding: binding}
		}
		admin := newAccount("admin", "admin", nil)
		adminBound := newAccount("admin-bound", "admin", &ev)
		opBound := newAccount("op-bound", "operator", &ev)
		opFree := newAccount("op-free", "operator", nil)
		nmBound := newAccount("nm-bound", "network_manager", &ev)
		nmFree := newAccount("nm-free", "network_manager", nil)

		// Every request comes from a fresh client IP, so only the per-account lock applies.
		do := func(method, path string, body any, bearer string) *testkit.Response {
			t.Helper()
			h := fromNewIP()
			if bearer != "" {
				h = append(h, testkit.Bearer(bearer)...)
			}
			return env.Client.Do(method, path, body, h...)
		}
		login := func(a account, password string, event *int64) *testkit.Response {
			t.Helper()
			body := map[string]any{"email": a.email, "password": password, "role": a.role}
			if event != nil {
				body["event_id"] = *event
			}
			return do("POST", "/auth/login", body, "")
		}
		// access logs a in and returns its access token with its verified claims.
		access := func(t *testing.T, a account, event *int64) (string, map[string]any) {
			t.Helper()
			r := login(a, pw, event)
			if r.Status != 200 {
				t.Fatalf("%s login with event %v: %d %s", a.email, str(event), r.Status, r.Body)
			}
			tok := r.JSON(t)["access_token"].(string)
			ok, claims := env.Verify(t, tok)
			if !ok {
				t.Fatalf("%s: access token does not verify", a.email)
			}
			return tok, claims
		}
		// refusedLikeWrongPassword: the right password with event is answered exactly as a
		// wrong one with the same event: status, body, WWW-Authenticate.
		refusedLikeWrongPassword := func(t *testing.T, a account, event *int64) {
			t.Helper()
			right, wrong := login(a, pw, event), login(a, "wrong-pass-123", event)
			if right.Status != 401 {
				t.Errorf("%s with event %s: status %d %s, want 401", a.email, str(event), right.Status, right.Body)
				return
			}
			if right.Status != wrong.Status || string(right.Body) != string(wrong.Body) ||
				right.Header.Get("WWW-Authenticate") != wrong.Header.Get("WWW-Authenticate") || right.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with event %s: right password answered %d %s (WWW-Authenticate %q), wrong one %d %s (%q)", a.email, str(event),
					right.Status, right.Body, right.Header.Get("WWW-Authenticate"), wrong.Status, wrong.Body, wrong.Header.Get("WWW-Authenticate"))
			}
		}

		t.Run("unbound operator and network manager sending any event_id: 401 as a wrong password", func(t *testing.T) {
			for _, a := range []account{opFree, nmFree} {
				for _, e := range []int64{ev, other, missing} {
					refusedLikeWrongPassword(t, a, &e)
				}
			}
		})
		t.Run("bound account asking for another event: 401 as a wrong password", func(t *testing.T) {
			for _, a := range []account{opBound, nmBound, adminBound} {
				for _, e := range []int64{other, missing} {
					refusedLikeWrongPassword(t, a, &e)
				}
			}
		})
		t.Run("an event_id naming no event is refused for admins too", func(t *testing.T) {
			refusedLikeWrongPassword(t, admin, &missing)
		})
		t.Run("bound account gets its binding, asked for or not", func(t *testing.T) {
			for _, a := range []account{opBound, nmBound, adminBound} {
				for _, e := range []*int64{nil, &ev} {
					if _, claims := access(t, a, e); num(claims["event_id"]) != ev || claims["sub"] != fmt.Sprint(a.id) || claims["role"] != a.role {
						t.Errorf("%s asking for %s: claims %v, want its binding %d", a.email, str(e), claims, ev)
					}
				}
			}
		})
		t.Run("unbound account sending no event_id logs in without one", func(t *testing.T) {
			for _, a := range []account{opFree, nmFree, admin} {
				if _, claims := access(t, a, nil); claims["event_id"] != nil || claims["sub"] != fmt.Sprint(a.id) {
					t.Errorf("%s: claims %v, want no event_id", a.email, claims)
				}
			}
		})
		t.Run("unbound admin may name any existing event", func(t *testing.T) {
			if _, claims := access(t, admin, &other); num(claims["event_id"]) != other {
				t.Errorf("claims %v, want event %d", claims, other)
			}
		})
		t.Run("the refusal counts towards the account lock as a wrong password does", func(t *testing.T) {
			// Two accounts of the same kind: one sent the right password with a refused event,
			// the other wrong passwords. The sequences of answers must be the same: 401 × 10,
			// then 429 even for the right password alone.
			steered := newAccount("op-free-steered", "operator", nil)
			guessed := newAccount("op-free-guessed", "operator", nil)
			var seqs [2][]int
			for i, try := range []func() *testkit.Response{
				func() *testkit.Response { return login(steered, pw, &ev) },
				func() *testkit.Response { return login(guessed, "wrong-pass-123", nil) },
			} {
				for range 10 {
					seqs[i] = append(seqs[i], try().Status)
				}
			}
			for i, a := range []account{steered, guessed} {
				r := login(a, pw, nil)
				seqs[i] = append(seqs[i], r.Status)
				if r.Status == 429 && r.Header.Get("Retry-After") == "" {
					t.Errorf("%s: 429 without Retry-After", a.email)
				}
			}
			if fmt.Sprint(seqs[0]) != fmt.Sprint(seqs[1]) || seqs[0][10] != 429 {
				t.Errorf("right password with a refused event: %v; wrong password: %v; want the same, ending in 429", seqs[0], seqs[1])
			}
		})

		adminTok, _ := access(t, admin, nil)
		opTok, _ := access(t, opBound, nil)
		opFreeTok, _ := access(t, opFree, nil)
		nmTok, _ := access(t, nmBound, nil)
		nmFreeTok, _ := access(t, nmFree, nil)
		// An admin token that names an event (asked for at login) still reaches every event.
		adminEvTok, _ := access(t, admin, &ev)

		t.Run("POST /tokens/offline cannot be steered to another or a missing event", func(t *testing.T) {
			for _, tc := range []struct {
				who, tok string
				event    int64
				want     int
			}{
				{"bound operator, other event", opTok, other, 403},
				{"bound operator, missing event", opTok, missing, 403},
				{"bound network manager, other event", nmTok, other, 403},
				{"unbound operator, an existing event", opFreeTok, ev, 403},
				{"unbound operator, missing event", opFreeTok, missing, 403},
				{"unbound network manager, an existing event", nmFreeTok, ev, 403},
				{"admin, missing event", adminTok, missing, 404},
				{"admin bound by its token, missing event", adminEvTok, missing, 404},
			} {
				if r := do("POST", "/tokens/offline", map[string]any{"event_id": tc.event}, tc.tok); r.Status != tc.want {
					t.Errorf("%s: %d %s, want %d", tc.who, r.Status, r.Body, tc.want)
				}
			}
			for _, tc := range []struct {
				who, tok string
				event    int64
			}{{"bound operator", opTok, ev}, {"bound network manager", nmTok, ev}, {"admin", adminTok, other}, {"admin with an event in its token", adminEvTok, other}} {
				r := do("POST", "/tokens/offline", map[string]any{"event_id": tc.event}, tc.tok)
				if r.Status != 200 {
					t.Errorf("%s, event %d: %d %s", tc.who, tc.event, r.Status, r.Body)
					continue
				}
				if ok, claims := env.Verify(t, r.JSON(t)["offline_token"].(string)); !ok || num(claims["event_id"]) != tc.event {
					t.Errorf("%s: offline claims %v, want event %d", tc.who, claims, tc.event)
				}
			}
		})

		devEv := env.Device(t, ev, "AA:BB:CC:00:E0:01", "Bar", &opBound.id)
		otherOp := newAccount("op-other", "operator", &other)
		devOther := env.Device(t, other, "AA:BB:CC:00:E0:02", "Gate", &otherOp.id)

		t.Run("offline token for a device of another event: 404", func(t *testing.T) {
			r := do("POST", "/tokens/offline", map[string]any{"event_id": ev, "device_id": fmt.Sprint(devOther)}, opTok)
			if r.Status != 404 {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("POST /devices/{id}/token cannot be steered to another event", func(t *testing.T) {
			token := func(tok string, device, operator int64) *testkit.Response {
				t.Helper()
				return do("POST", fmt.Sprintf("/devices/%d/token", device), map[string]any{"operator_id": operator}, tok)
			}
			if r := token(opTok, devOther, opBound.id); r.Status != 403 {
				t.Errorf("bound operator, device of another event: %d %s", r.Status, r.Body)
			}
			if r := token(opFreeTok, devEv, opBound.id); r.Status != 403 {
				t.Errorf("unbound operator: %d %s", r.Status, r.Body)
			}
			if r := token(adminTok, devEv, otherOp.id); r.Status != 404 {
				t.Errorf("operator of another event associated with the device: %d %s", r.Status, r.Body)
			}
			r := token(opTok, devEv, opBound.id)
			if r.Status != 200 {
				t.Fatalf("bound operator, device of its event: %d %s", r.Status, r.Body)
			}
			if ok, claims := env.Verify(t, r.JSON(t)["offline_token"].(string)); !ok || num(claims["event_id"]) != ev || num(claims["device_id"]) != devEv {
				t.Errorf("device token claims %v, want event %d device %d", claims, ev, devEv)
			}
		})
		t.Run("device login names the device's event, never another", func(t *testing.T) {
			for _, e := range []int64{other, missing} {
				if r := do("POST", "/auth/login/device", map[string]any{"dev_mac": "AA:BB:CC:00:E0:01", "event_id": e}, ""); r.Status != 401 {
					t.Errorf("device of event %d logging in for %d: %d %s", ev, e, r.Status, r.Body)
				}
			}
		})
		t.Run("POST /tokens/api-key: existing events only, admins only", func(t *testing.T) {
			body := func(e int64) map[string]any {
				return map[string]any{"event_id": e, "name": "scanner", "scopes": []string{"tickets:read"}}
			}
			if r := do("POST", "/tokens/api-key", body(missing), adminTok); r.Status != 404 {
				t.Errorf("admin, missing event: %d %s, want 404", r.Status, r.Body)
			}
			for who, tok := range map[string]string{"bound operator": opTok, "bound network manager": nmTok} {
				if r := do("POST", "/tokens/api-key", body(ev), tok); r.Status != 403 {
					t.Errorf("%s: %d %s, want 403", who, r.Status, r.Body)
				}
			}
			r := do("POST", "/tokens/api-key", body(other), adminEvTok)
			if r.Status != 200 {
				t.Fatalf("admin, existing event: %d %s", r.Status, r.Body)
			}
			if ok, claims := env.Verify(t, r.JSON(t)["api_key"].(string)); !ok || num(claims["event_id"]) != other {
				t.Errorf("API key claims %v, want event %d", claims, other)
			}
		})
		t.Run("operator-token lane reports the binding and takes no event_id", func(t *testing.T) {
			body := func(a account) map[string]any {
				return map[string]any{"email": a.email, "password": pw, "dev_type": "POS", "dev_mac": "AA:BB:CC:00:E0:09"}
			}
			steer := body(opFree)
			steer["event_id"] = ev
			if r := do("POST", "/devices/operator-token", steer, ""); r.Status != 422 {
				t.Errorf("event_id in the body: %d %s, want 422", r.Status, r.Body)
			}
			for _, a := range []account{opBound, opFree} {
				r := do("POST", "/devices/operator-token", body(a), "")
				if r.Status != 200 {
					t.Fatalf("%s: %d %s", a.email, r.Status, r.Body)
				}
				got := r.JSON(t)["event_id"]
				if a.binding == nil && got != nil || a.binding != nil && num(got) != *a.binding {
					t.Errorf("%s: event_id %v, want its binding %s", a.email, got, str(a.binding))
				}
			}
		})
		t.Run("refresh keeps the binding", func(t *testing.T) {
			r := login(opBound, pw, nil)
			if r.Status != 200 {
				t.Fatalf("login: %d", r.Status)
			}
			next := do("POST", "/auth/refresh", map[string]any{"refresh_token": r.JSON(t)["refresh_token"]}, "")
			if next.Status != 200 {
				t.Fatalf("refresh: %d %s", next.Status, next.Body)
			}
			if _, claims := env.Verify(t, next.JSON(t)["access_token"].(string)); num(claims["event_id"]) != ev {
				t.Errorf("refreshed claims %v, want event %d", claims, ev)
			}
		})
	})
}
