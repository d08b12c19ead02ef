package offline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func TestOfflineToken(t *testing.T) {
	testkit.ForEachBackend(t, testkit.Options{Plugins: modules.All()}, func(t *testing.T, env *testkit.Env) {
		c := env.Client
		ev1, ev2 := env.Event(t, "Festival"), env.Event(t, "Stadium")
		adminID := env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		opID := env.User(t, "op1@example.com", "op-pass-123", "operator", &ev1, 0)
		env.User(t, "op2@example.com", "op-pass-123", "operator", &ev2, 0)
		env.User(t, "free@example.com", "op-pass-123", "operator", nil, 0)
		env.User(t, "nm@example.com", "nm-pass-123", "network_manager", &ev1, 0)
		dev1 := env.Device(t, ev1, "AA:BB:CC:00:11:22", "Bar 1", nil)
		dev2 := env.Device(t, ev2, "AA:BB:CC:00:11:33", "Gate", nil)
		archived := env.Device(t, ev1, "AA:BB:CC:00:11:44", "Old", nil)
		if err := store.NewDevices(env.DB).Archive(context.Background(), archived); err != nil {
			t.Fatal(err)
		}
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		op1, refresh := env.Login(t, "op1@example.com", "op-pass-123", "operator")
		op2, _ := env.Login(t, "op2@example.com", "op-pass-123", "operator")
		free, _ := env.Login(t, "free@example.com", "op-pass-123", "operator") // no event claim
		nm, _ := env.Login(t, "nm@example.com", "nm-pass-123", "network_manager")

		issue := func(bearer string, body map[string]any) *testkit.Response {
			t.Helper()
			return c.Do("POST", "/tokens/offline", body, testkit.Bearer(bearer)...)
		}

		t.Run("admin gets a 72 h offline token for the event, verified with its claims", func(t *testing.T) {
			r := issue(admin, map[string]any{"event_id": ev1})
			if r.Status != 200 {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
			body := r.JSON(t)
			if body["event_id"] != float64(ev1) {
				t.Fatalf("event_id %v", body["event_id"])
			}
			if _, ok := body["device_id"]; ok {
				t.Fatalf("device_id without a device: %v", body)
			}
			ok, claims := env.Verify(t, body["offline_token"].(string))
			if !ok || claims["type"] != "offline" || claims["sub"] != fmt.Sprint(adminID) || claims["role"] != "admin" || claims["event_id"] != float64(ev1) {
				t.Fatalf("verify: %v %v", ok, claims)
			}
			if _, ok := claims["device_id"]; ok {
				t.Fatalf("device_id claim without a device: %v", claims)
			}
			exp, iat := int64(claims["exp"].(float64)), int64(claims["iat"].(float64))
			if exp-iat != int64((72 * time.Hour).Seconds()) {
				t.Fatalf("lifetime %d s, want 72 h", exp-iat)
			}
			at, err := time.Parse(time.RFC3339, body["expires_at"].(string))
			if err != nil || at.Unix() != exp || at.Location() != time.UTC {
				t.Fatalf("expires_at %v (%v), exp %d", body["expires_at"], err, exp)
			}
		})
		t.Run("device_id is carried as an integer claim and echoed as a string", func(t *testing.T) {
			r := issue(admin, map[string]any{"event_id": ev1, "device_id": fmt.Sprint(dev1)})
			if r.Status != 200 {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
			body := r.JSON(t)
			if body["device_id"] != fmt.Sprint(dev1) {
				t.Fatalf("device_id %v", body["device_id"])
			}
			ok, claims := env.Verify(t, body["offline_token"].(string))
			if !ok || claims["device_id"] != float64(dev1) || claims["event_id"] != float64(ev1) {
				t.Fatalf("verify: %v %v", ok, claims)
			}
			if r := issue(admin, map[string]any{"event_id": ev1, "device_id": nil}); r.Status != 200 {
				t.Fatalf("null device_id: %d", r.Status)
			}
			// What pydantic accepts as an int string is accepted, and echoed back canonical.
			if r := issue(admin, map[string]any{"event_id": ev1, "device_id": fmt.Sprintf(" %d ", dev1)}); r.Status != 200 || r.JSON(t)["device_id"] != fmt.Sprint(dev1) {
				t.Fatalf("padded device_id: %d %s", r.Status, r.Body)
			}
		})
		t.Run("operators and network managers get tokens for their own event only", func(t *testing.T) {
			r := issue(op1, map[string]any{"event_id": ev1, "device_id": fmt.Sprint(dev1)})
			if r.Status != 200 {
				t.Fatalf("operator, own event: %d %s", r.Status, r.Body)
			}
			if ok, claims := env.Verify(t, r.JSON(t)["offline_token"].(string)); !ok || claims["sub"] != fmt.Sprint(opID) || claims["role"] != "operator" {
				t.Fatalf("operator token claims: %v", claims)
			}
			if r := issue(nm, map[string]any{"event_id": ev1}); r.Status != 200 {
				t.Fatalf("network manager, own event: %d", r.Status)
			}
			for name, tc := range map[string]struct {
				bearer string
				event  int64
			}{
				"operator of another event":         {op2, ev1},
				"operator asking for another event": {op1, ev2},
				"network manager, another event":    {nm, ev2},
				"unbound operator":                  {free, ev1},
				"operator, unknown event":           {op1, ev1 + 1000},
			} {
				if r := issue(tc.bearer, map[string]any{"event_id": tc.event}); r.Status != 403 {
					t.Errorf("%s: status %d", name, r.Status)
				}
			}
		})
		t.Run("unknown event and foreign or archived devices are 404", func(t *testing.T) {
			for name, body := range map[string]map[string]any{
				"unknown event":           {"event_id": ev1 + 1000},
				"device of another event": {"event_id": ev1, "device_id": fmt.Sprint(dev2)},
				"unknown device":          {"event_id": ev1, "device_id": fmt.Sprint(dev2 + 1000)},
				"archived device":         {"event_id": ev1, "device_id": fmt.Sprint(archived)},
			} {
				if r := issue(admin, body); r.Status != 404 {
					t.Errorf("%s: status %d", name, r.Status)
				}
			}
		})
		t.Run("a device_id that is no integer is a 422 at body.device_id", func(t *testing.T) {
			r := issue(admin, map[string]any{"event_id": ev1, "device_id": "pos-7"})
			if r.Status != 422 {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
			first := r.JSON(t)["detail"].([]any)[0].(map[string]any)
			loc := first["loc"].([]any)
			if len(loc) != 2 || loc[0] != "body" || loc[1] != "device_id" || first["type"] != "int_parsing" ||
				first["msg"] != "Input should be a valid integer, unable to parse string as an integer" || first["input"] != "pos-7" {
				t.Fatalf("issue %v", first)
			}
			r = issue(admin, map[string]any{"event_id": ev1, "device_id": "99999999999999999999"})
			if r.Status != 422 || r.JSON(t)["detail"].([]any)[0].(map[string]any)["type"] != "int_parsing_size" {
				t.Fatalf("oversized device_id: %d %s", r.Status, r.Body)
			}
			if r := issue(admin, map[string]any{"event_id": "x"}); r.Status != 422 {
				t.Fatalf("bad event_id: %d", r.Status)
			}
			if r := issue(admin, map[string]any{"event_id": ev1, "extra": 1}); r.Status != 422 {
				t.Fatalf("extra field: %d", r.Status)
			}
		})
		t.Run("without a valid access token it is a 401", func(t *testing.T) {
			if r := c.Do("POST", "/tokens/offline", map[string]any{"event_id": ev1}); r.Status != 401 {
				t.Fatalf("anonymous: %d", r.Status)
			}
			if r := issue(refresh, map[string]any{"event_id": ev1}); r.Status != 401 {
				t.Fatalf("refresh token as bearer: %d", r.Status)
			}
		})
		t.Run("the route is limited to 30/minute per IP", func(t *testing.T) {
			for _, rt := range env.Server.Handler().Routes {
				if rt.Name == "offline.issue" {
					if rt.Limit != "30/minute" {
						t.Fatalf("limit %q", rt.Limit)
					}
					return
				}
			}
			t.Fatal("route offline.issue not served")
		})
	})
}
