package oidc_test

import (
	"net"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// deadIssuer is a loopback URL nothing listens on.
func deadIssuer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func laneOptions(cfg map[string]any) testkit.Options {
	c := map[string]any{"modules.oidc.enabled": true, "ratelimit.routes.oidc.login": "1000/minute"}
	for k, v := range cfg {
		c[k] = v
	}
	return testkit.Options{Plugins: modules.All(), Config: c}
}

func TestUnknownProviderAndProviderDown(t *testing.T) {
	dead := deadIssuer(t)
	testkit.ForEachBackend(t, laneOptions(map[string]any{
		"modules.oidc.providers": map[string]any{
			"down": map[string]any{"issuer": dead, "client_ids": []any{"app"}},
			"off":  map[string]any{"issuer": dead + "/off", "client_ids": []any{"app"}, "enabled": false},
		},
	}), func(t *testing.T, env *testkit.Env) {
		c := env.Client
		for _, name := range []string{"nope", "off"} {
			if r := c.Do("POST", "/auth/login/oidc/"+name, map[string]any{"id_token": "x.y.z"}); r.Status != 404 {
				t.Fatalf("provider %s: %d %s", name, r.Status, r.Body)
			}
		}
		tok := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2ln"
		r := c.Do("POST", "/auth/login/oidc/down", map[string]any{"id_token": tok, "nonce": "n"})
		if r.Status != 503 {
			t.Fatalf("provider down: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/auth/login/oidc/down", map[string]any{"id_token": "garbage"}); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("garbage token: %d %s %v", r.Status, r.Body, r.Header)
		}
		for _, body := range []any{map[string]any{}, map[string]any{"id_token": 5}, map[string]any{"id_token": "x", "extra": 1}, map[string]any{"id_token": "x", "nonce": 7}} {
			if r := c.Do("POST", "/auth/login/oidc/down", body); r.Status != 422 {
				t.Fatalf("%v: %d %s", body, r.Status, r.Body)
			}
		}
	})
}

// TestConfigIsChecked: every problem of every provider is reported at start, each under its key.
func TestConfigIsChecked(t *testing.T) {
	_, _, err := core.Load("", modules.All(), map[string]any{
		"modules.oidc.enabled": true,
		"modules.oidc.providers": map[string]any{
			"google": map[string]any{"issuer": "https://accounts.google.com", "client_ids": []any{"web"}, "algorithms": []any{"HS256", "none"}},
			"apple":  map[string]any{"issuer": "http://appleid.apple.com", "client_ids": []any{}, "nonce": "md5"},
			"twin":   map[string]any{"issuer": "https://accounts.google.com", "client_ids": []any{"x"}, "leeway": "1h", "clientid": "typo"},
			"bad!":   map[string]any{"issuer": "https://bad.example", "client_ids": []any{"x"}},
		},
		"modules.oidc.refresh_interval": "10ms",
	})
	if err == nil {
		t.Fatal("a broken oidc section was accepted")
	}
	for _, want := range []string{
		`providers.google.algorithms: "HS256"`, `providers.google.algorithms: "none"`,
		"providers.apple.issuer", "providers.apple.client_ids", "providers.apple.nonce",
		"providers.twin.leeway", "clientid", "providers.bad!", "refresh_interval",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, err)
		}
	}
	if strings.Count(err.Error(), "is also the issuer") != 1 {
		t.Errorf("two providers with one issuer are reported once:\n%v", err)
	}
}
