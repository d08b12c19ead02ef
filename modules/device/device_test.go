package device_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func opts(cfg map[string]any) testkit.Options {
	return testkit.Options{Plugins: modules.All(), Config: cfg}
}

// stringMap decodes a map-of-strings answer; the contract check already enforces the shape.
func stringMap(t *testing.T, r *testkit.Response) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("not a map of strings: %s", r.Body)
	}
	return m
}

// checkDeviceToken verifies a device's offline token and its claims.
func checkDeviceToken(t *testing.T, env *testkit.Env, body map[string]string, device, event, operator int64) {
	t.Helper()
	if body["event_id"] != fmt.Sprint(event) || body["device_id"] != fmt.Sprint(device) {
		t.Fatalf("body %v", body)
	}
	ok, claims := env.Verify(t, body["offline_token"])
	if !ok || claims["type"] != "offline" || claims["role"] != "device" || claims["sub"] != fmt.Sprint(device) ||
		claims["event_id"] != float64(event) || claims["device_id"] != float64(device) || claims["operator_id"] != float64(operator) {
		t.Fatalf("verify: %v %v", ok, claims)
	}
	exp, iat := int64(claims["exp"].(float64)), int64(claims["iat"].(float64))
	if exp-iat != int64((72 * time.Hour).Seconds()) {
		t.Fatalf("lifetime %d s, want 72 h", exp-iat)
	}
	if at, err := time.Parse(time.RFC3339, body["expires_at"]); err != nil || at.Unix() != exp {
		t.Fatalf("expires_at %q (%v), exp %d", body["expires_at"], err, exp)
	}
}

func TestDeviceLanes(t *testing.T) {
	// Many requests from one address: the per-IP limits are checked by value below.
	cfg := map[string]any{"ratelimit.routes.device.login": "1000/minute", "ratelimit.routes.device.auth": "1000/minute", "ratelimit.routes.device.token": "1000/minute"}
	testkit.ForEachBackend(t, opts(cfg), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		ctx := context.Background()
		devices := store.NewDevices(env.DB)
		ev1, ev2 := env.Event(t, "Festival"), env.Event(t, "Stadium")
		adminID := env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		op1 := env.User(t, "op1@example.com", "op-pass-123", "operator", &ev1, 0)
		op2 := env.User(t, "op2@example.com", "op-pass-123", "operator", &ev2, 0)
		free := env.User(t, "free@example.com", "op-pass-123", "operator", nil, 0)
		nmID := env.User(t, "nm@example.com", "nm-pass-123", "network_manager", &ev1, 0)

		bar := env.Device(t, ev1, "AA:BB:CC:00:11:22", "Bar 1", nil)  // gets its operator below
		idle := env.Device(t, ev1, "AA:BB:CC:00:11:55", "Spare", nil) // never gets one
		gate := env.Device(t, ev2, "AA:BB:CC:00:11:33", "Gate", &op2) // another event
		old := env.Device(t, ev1, "AA:BB:CC:00:11:44", "Old", &op1)   // archived
		env.Device(t, ev1, "AA:BB:CC:00:11:66", "Stray", &op2)        // operator of another event
		if err := devices.Archive(ctx, old); err != nil {
			t.Fatal(err)
		}

		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		op1Tok, _ := env.Login(t, "op1@example.com", "op-pass-123", "operator")
		nm, _ := env.Login(t, "nm@example.com", "nm-pass-123", "network_manager")

		token := func(bearer string, device any, operator any) *testkit.Response {
			t.Helper()
			return c.Do("POST", fmt.Sprintf("/devices/%v/token", device), map[string]any{"operator_id": operator}, testkit.Bearer(bearer)...)
		}

		t.Run("POST /devices/{id}/token associates the operator and returns the device's offline token", func(t *testing.T) {
			r := token(admin, bar, op1)
			if r.Status != 200 {
				t.Fatalf("admin: %d %s", r.Status, r.Body)
			}
			checkDeviceToken(t, env, stringMap(t, r), bar, ev1, op1)
			if d, _ := devices.ByID(ctx, bar); d.OperatorID == nil || *d.OperatorID != op1 {
				t.Fatalf("operator not associated: %+v", d)
			}
			// An operator of the device's event may do it too, and an unbound operator may be associated.
			r = token(op1Tok, bar, free)
			if r.Status != 200 {
				t.Fatalf("operator of the event: %d %s", r.Status, r.Body)
			}
			checkDeviceToken(t, env, stringMap(t, r), bar, ev1, free)
			if r := token(op1Tok, bar, op1); r.Status != 200 {
				t.Fatalf("back to op1: %d", r.Status)
			}
		})
		t.Run("unknown device 404, other event 403, wrong role 403, archived 404", func(t *testing.T) {
			if r := token(admin, bar+1000, op1); r.Status != 404 {
				t.Errorf("unknown device: %d", r.Status)
			}
			if r := token(op1Tok, gate, op2); r.Status != 403 {
				t.Errorf("operator of another event: %d", r.Status)
			}
			if r := token(nm, bar, op1); r.Status != 403 {
				t.Errorf("network manager: %d", r.Status)
			}
			if r := token(admin, old, op1); r.Status != 404 {
				t.Errorf("archived device: %d", r.Status)
			}
			if d, _ := devices.ByID(ctx, gate); d.OperatorID == nil || *d.OperatorID != op2 {
				t.Errorf("refused request changed the device: %+v", d)
			}
		})
		t.Run("operator_id that is not an operator of the event is a 404 naming it", func(t *testing.T) {
			for name, id := range map[string]int64{"operator of another event": op2, "admin": adminID, "network manager": nmID, "unknown user": op1 + 1000} {
				r := token(admin, bar, id)
				if r.Status != 404 || !strings.Contains(r.Detail(t), "not an operator") {
					t.Errorf("%s: %d %s", name, r.Status, r.Body)
				}
			}
			if d, _ := devices.ByID(ctx, bar); d.OperatorID == nil || *d.OperatorID != op1 {
				t.Errorf("refused request changed the device: %+v", d)
			}
		})
		t.Run("malformed requests are 422, missing bearer 401", func(t *testing.T) {
			r := token(admin, "abc", op1)
			if r.Status != 422 {
				t.Fatalf("path abc: %d", r.Status)
			}
			loc := r.JSON(t)["detail"].([]any)[0].(map[string]any)["loc"].([]any)
			if loc[0] != "path" || loc[1] != "device_id" {
				t.Fatalf("loc %v", loc)
			}
			if r := token(admin, bar, "x"); r.Status != 422 {
				t.Errorf("operator_id x: %d", r.Status)
			}
			if r := c.Do("POST", fmt.Sprintf("/devices/%d/token", bar), map[string]any{"operator_id": op1}); r.Status != 401 {
				t.Errorf("anonymous: %d", r.Status)
			}
		})

		login := func(mac string, event int64) *testkit.Response {
			t.Helper()
			return c.Do("POST", "/auth/login/device", map[string]any{"dev_mac": mac, "event_id": event})
		}
		t.Run("device login with its MAC in any spelling returns the offline token", func(t *testing.T) {
			for _, mac := range []string{"aa:bb:cc:00:11:22", "AA-BB-CC-00-11-22", "aabb.cc00.1122", "AABBCC001122"} {
				r := login(mac, ev1)
				if r.Status != 200 {
					t.Fatalf("%s: %d %s", mac, r.Status, r.Body)
				}
				checkDeviceToken(t, env, stringMap(t, r), bar, ev1, op1)
			}
		})
		t.Run("every refused device login looks the same", func(t *testing.T) {
			var details []string
			for name, tc := range map[string]struct {
				mac   string
				event int64
			}{
				"other event":               {"AA:BB:CC:00:11:22", ev2},
				"unknown MAC":               {"AA:BB:CC:99:99:99", ev1},
				"malformed MAC":             {"not-a-mac", ev1},
				"archived device":           {"AA:BB:CC:00:11:44", ev1},
				"device without operator":   {"AA:BB:CC:00:11:55", ev1},
				"operator of another event": {"AA:BB:CC:00:11:66", ev1},
				"unknown event":             {"AA:BB:CC:00:11:22", ev1 + 1000},
			} {
				r := login(tc.mac, tc.event)
				if r.Status != 401 {
					t.Fatalf("%s: %d %s", name, r.Status, r.Body)
				}
				details = append(details, r.Detail(t))
			}
			for _, d := range details {
				if d != details[0] {
					t.Fatalf("401 details differ: %q", details)
				}
			}
			if r := c.Do("POST", "/auth/login/device", map[string]any{"dev_mac": "AA:BB:CC:00:11:22"}); r.Status != 422 {
				t.Fatalf("missing event_id: %d", r.Status)
			}
		})

		auth := func(mac string, event int64) *testkit.Response {
			t.Helper()
			return c.Do("POST", "/devices/auth", map[string]any{"dev_mac": mac, "event_id": event})
		}
		t.Run("POST /devices/auth returns the info of a live device, operator or not", func(t *testing.T) {
			r := auth("aa-bb-cc-00-11-55", ev1)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			m := r.JSON(t)
			if m["id"] != float64(idle) || m["event_id"] != float64(ev1) || m["mac"] != "aa:bb:cc:00:11:55" || m["name"] != "Spare" ||
				m["operator_id"] != nil || m["archived"] != false {
				t.Fatalf("info %v", m)
			}
			m = auth("AABBCC001122", ev1).JSON(t)
			if m["id"] != float64(bar) || m["operator_id"] != float64(op1) {
				t.Fatalf("info %v", m)
			}
			var details []string
			for _, tc := range []struct {
				mac   string
				event int64
			}{{"AA:BB:CC:00:11:44", ev1}, {"AA:BB:CC:99:99:99", ev1}, {"zz", ev1}, {"AA:BB:CC:00:11:55", ev2}} {
				r := auth(tc.mac, tc.event)
				if r.Status != 401 {
					t.Fatalf("%v: %d", tc, r.Status)
				}
				details = append(details, r.Detail(t))
			}
			for _, d := range details {
				if d != details[0] {
					t.Fatalf("details differ: %q", details)
				}
			}
		})
		t.Run("routes carry the contract's per-IP limits", func(t *testing.T) {
			want := map[string]string{"device.login": "60/minute", "device.auth": "60/minute", "device.token": "30/minute"}
			for _, rt := range env.Server.Handler().Routes {
				if w, ok := want[rt.Name]; ok {
					if rt.Limit != w {
						t.Errorf("%s: %q, want %q", rt.Name, rt.Limit, w)
					}
					delete(want, rt.Name)
				}
			}
			if len(want) != 0 {
				t.Fatalf("routes not served: %v", want)
			}
		})
	})
}

func TestDeviceLoginRateLimit(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"ratelimit.routes.device.login": "2/minute"}), func(t *testing.T, env *testkit.Env) {
		for i := 0; i < 2; i++ {
			env.Client.Do("POST", "/auth/login/device", map[string]any{"dev_mac": fmt.Sprintf("AA:BB:CC:00:00:%02d", i), "event_id": 1})
		}
		r := env.Client.Do("POST", "/auth/login/device", map[string]any{"dev_mac": "AA:BB:CC:00:00:99", "event_id": 1})
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("3rd attempt: %d %q", r.Status, r.Header.Get("Retry-After"))
		}
	})
}

func TestDeviceLaneDisabled(t *testing.T) {
	testkit.ForEachBackend(t, opts(map[string]any{"modules.device.enabled": false}), func(t *testing.T, env *testkit.Env) {
		ev := env.Event(t, "Festival")
		env.User(t, "admin@example.com", "admin-pass-1", "admin", nil, 0)
		dev := env.Device(t, ev, "AA:BB:CC:00:11:22", "Bar", nil)
		admin, _ := env.Login(t, "admin@example.com", "admin-pass-1", "admin")
		for path, body := range map[string]map[string]any{
			"/auth/login/device":                  {"dev_mac": "AA:BB:CC:00:11:22", "event_id": ev},
			"/devices/auth":                       {"dev_mac": "AA:BB:CC:00:11:22", "event_id": ev},
			fmt.Sprintf("/devices/%d/token", dev): {"operator_id": 1},
		} {
			if r := env.Client.Do("POST", path, body, testkit.Bearer(admin)...); r.Status != 404 {
				t.Errorf("%s: %d", path, r.Status)
			}
		}
		doc := string(env.Client.Do("GET", "/openapi.json", nil).Body)
		for _, op := range []string{"login_device_auth_login_device_post", "authenticate_device_devices_auth_post", "issue_device_token_endpoint_devices__device_id__token_post"} {
			if strings.Contains(doc, op) {
				t.Errorf("%s still documented", op)
			}
		}
		// The offline-token endpoint is not part of the lane.
		if r := env.Client.Do("POST", "/tokens/offline", map[string]any{"event_id": ev}, testkit.Bearer(admin)...); r.Status != 200 {
			t.Errorf("/tokens/offline: %d", r.Status)
		}
	})
}
