package oidc_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
)

// The lane's tests run against real OpenID Providers (node oidc-provider, op_test.go): tokens
// come out of its authorization code flow, or are signed with its keys (op.SignJWT) where the
// flow never issues such a token (expired, another issuer, a forged kid).

// refresh is the lane's refresh_interval in these tests: the least the config allows.
const refresh = time.Second

// providers is the lane's config for the three providers of opWorld.
func (w *opWorld) config(extra map[string]any) map[string]any {
	cfg := map[string]any{
		"modules.oidc.enabled":          true,
		"modules.oidc.refresh_interval": refresh.String(),
		"ratelimit.routes.oidc.login":   "1000/minute",
		// Requests carry their client's address in X-Forwarded-For, as behind an ingress.
		"ratelimit.trusted_proxies": []any{"127.0.0.1/32"},
		"modules.oidc.providers": map[string]any{
			// A Keycloak realm: raw nonce, one of two clients accepted.
			"keycloak": map[string]any{"issuer": w.keycloak.Issuer(), "client_ids": []any{"app"}, "algorithms": []any{"RS256"}},
			// Apple-like: SHA-256 nonce, e-mail required verified (sent as the string "true").
			"apple": map[string]any{"issuer": w.apple.Issuer(), "client_ids": []any{"app"}, "nonce": "sha256", "require_verified_email": true},
			// No nonce, verified phones linked.
			"plain": map[string]any{"issuer": w.plain.Issuer(), "client_ids": []any{"app", "web"}, "nonce": "none", "link_phone": true},
		},
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

type opWorld struct{ keycloak, apple, plain *op }

func newWorld(t *testing.T) *opWorld {
	var w opWorld
	var wg sync.WaitGroup
	wg.Go(func() {
		w.keycloak = startOP(t, opOptions{IssuerPath: "/realms/festival", Clients: []opClient{{ID: "app"}, {ID: "other"}}})
	})
	wg.Go(func() { w.apple = startOP(t, opOptions{}) })
	wg.Go(func() { w.plain = startOP(t, opOptions{Clients: []opClient{{ID: "app"}, {ID: "web", Alg: "ES256"}}}) })
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return &w
}

// eachBackend starts the providers and a service per backend: fetch counts are per service.
func eachBackend(t *testing.T, fn func(t *testing.T, w *opWorld, env *testkit.Env)) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t)
			env := testkit.Start(t, b, laneOptions(w.config(nil)))
			fn(t, w, env)
		})
	}
}

func oidcLogin(c *testkit.Client, provider, idToken, nonce string) *testkit.Response {
	body := map[string]any{"id_token": idToken}
	if nonce != "" {
		body["nonce"] = nonce
	}
	return c.Do("POST", "/auth/login/oidc/"+provider, body)
}

func subjectOf(t *testing.T, env *testkit.Env, r *testkit.Response) int64 {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	v := env.Client.Do("POST", "/tokens/verify", map[string]any{"token": r.JSON(t)["access_token"]}).JSON(t)
	claims, _ := v["claims"].(map[string]any)
	var id int64
	if v["valid"] != true || claims["role"] != "consumer" {
		t.Fatalf("platform token: %v", v)
	}
	fmt.Sscan(fmt.Sprint(claims["sub"]), &id)
	return id
}

func refused(t *testing.T, r *testkit.Response, what string) {
	t.Helper()
	if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("%s: %d %s (WWW-Authenticate %q), want 401 Bearer", what, r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
	}
}

func sha(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestOIDCLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, w *opWorld, env *testkit.Env) {
		c := env.Client
		ids := store.NewIdentities(env.DB)

		t.Run("a first login creates the consumer, the same sub finds it again", func(t *testing.T) {
			first := subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "alice", "n-1", map[string]any{"email": "alice@example.com", "email_verified": true}), "n-1"))
			again := subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "alice", "n-2", nil), "n-2"))
			if first != again {
				t.Fatalf("same sub, consumers %d and %d", first, again)
			}
			if linked, err := ids.Consumer(t.Context(), w.keycloak.Issuer(), "alice"); err != nil || linked != first {
				t.Fatalf("identity (%s, alice) -> %d, %v", w.keycloak.Issuer(), linked, err)
			}
			other := subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "bob", "n-3", nil), "n-3"))
			if other == first {
				t.Fatal("two subjects signed in as one consumer")
			}
		})

		t.Run("the same sub at another provider is another person, and e-mail links no one", func(t *testing.T) {
			a := subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "carol", "n", map[string]any{"email": "carol@example.com", "email_verified": true}), "n"))
			b := subjectOf(t, env, oidcLogin(c, "plain", w.plain.IDToken(t, "app", "carol", "", map[string]any{"email": "carol@example.com", "email_verified": true}), ""))
			if a == b {
				t.Fatal("two providers' identities with one e-mail were merged")
			}
		})

		t.Run("a token posted to another provider's path is refused", func(t *testing.T) {
			refused(t, oidcLogin(c, "keycloak", w.plain.IDToken(t, "app", "dave", "n", nil), "n"), "plain's token at keycloak")
		})

		t.Run("a token for another client id is refused", func(t *testing.T) {
			refused(t, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "other", "erin", "n", nil), "n"), "client other")
			// A provider accepting two client ids takes both, ES256 included.
			subjectOf(t, env, oidcLogin(c, "plain", w.plain.IDToken(t, "web", "erin", "", nil), ""))
		})

		t.Run("an ID token is accepted once", func(t *testing.T) {
			tok := w.keycloak.IDToken(t, "app", "frank", "n", nil)
			subjectOf(t, env, oidcLogin(c, "keycloak", tok, "n"))
			refused(t, oidcLogin(c, "keycloak", tok, "n"), "replayed token")
		})

		t.Run("50 copies of one ID token at once, from 20 addresses: one session", func(t *testing.T) {
			tok := w.keycloak.IDToken(t, "app", "gabe", "n", nil)
			body, _ := json.Marshal(map[string]any{"id_token": tok, "nonce": "n"})
			statuses := make([]int, 50)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() {
					req, _ := http.NewRequest("POST", env.URL+"/auth/login/oidc/keycloak", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i%20+1))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return // status 0: counted as neither
					}
					statuses[i] = resp.StatusCode
					resp.Body.Close()
				})
			}
			wg.Wait()
			count := map[int]int{}
			for _, s := range statuses {
				count[s]++
			}
			if count[200] != 1 || count[401] != len(statuses)-1 {
				t.Fatalf("50 concurrent copies of one ID token: %v, want one 200 and 49 401s", count)
			}
		})

		t.Run("nonce modes", func(t *testing.T) {
			refused(t, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "gina", "right", nil), "wrong"), "raw: another nonce")
			refused(t, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "gina", "right", nil), ""), "raw: no nonce in the request")
			refused(t, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "gina", "", nil), "right"), "raw: no nonce in the token")
			subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "gina", "right", nil), "right"))

			verified := map[string]any{"email": "hank@example.com", "email_verified": "true"} // Apple's string
			subjectOf(t, env, oidcLogin(c, "apple", w.apple.IDToken(t, "app", "hank", sha("raw-nonce"), verified), "raw-nonce"))
			hashed := sha("raw-nonce-2")
			refused(t, oidcLogin(c, "apple", w.apple.IDToken(t, "app", "hank", hashed, verified), hashed), "sha256: the hash posted as the nonce")

			subjectOf(t, env, oidcLogin(c, "plain", w.plain.IDToken(t, "app", "ivan", "", nil), ""))
		})

		t.Run("an e-mail the provider did not verify is refused where required", func(t *testing.T) {
			refused(t, oidcLogin(c, "apple", w.apple.IDToken(t, "app", "judy", sha("n"), map[string]any{"email": "judy@example.com", "email_verified": "false"}), "n"), "email_verified false")
			refused(t, oidcLogin(c, "apple", w.apple.IDToken(t, "app", "judy", sha("n"), nil), "n"), "no e-mail")
		})

		t.Run("a verified phone is linked only where the tenant opted in", func(t *testing.T) {
			phoneClaims := map[string]any{"phone_number": "+33 6 12 34 56 78", "phone_number_verified": true}
			kc := subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "kim", "n", phoneClaims), "n"))
			if got, _ := store.NewConsumers(env.DB).ByID(t.Context(), kc); got.Phone != nil {
				t.Fatalf("link_phone off, yet the phone was stored: %v", *got.Phone)
			}
			pl := subjectOf(t, env, oidcLogin(c, "plain", w.plain.IDToken(t, "app", "kim", "", phoneClaims), ""))
			if got, _ := store.NewConsumers(env.DB).ByID(t.Context(), pl); got.Phone == nil || *got.Phone != "+33612345678" {
				t.Fatalf("link_phone on: phone %v, want +447700900123", got.Phone)
			}
			// Another subject claiming a number a consumer already holds signs in without it:
			// accounts are not merged by a login.
			other := subjectOf(t, env, oidcLogin(c, "plain", w.plain.IDToken(t, "app", "mia", "", phoneClaims), ""))
			if got, _ := store.NewConsumers(env.DB).ByID(t.Context(), other); other == pl || got.Phone != nil {
				t.Fatalf("a held phone: consumer %d (phone %v), holder %d", other, got.Phone, pl)
			}
			unverified := map[string]any{"phone_number": "+33 6 12 34 56 79", "phone_number_verified": false}
			pl2 := subjectOf(t, env, oidcLogin(c, "plain", w.plain.IDToken(t, "app", "lee", "", unverified), ""))
			if got, _ := store.NewConsumers(env.DB).ByID(t.Context(), pl2); got.Phone != nil {
				t.Fatal("an unverified phone was linked")
			}
		})

		t.Run("tokens the flow never issues are refused", func(t *testing.T) {
			now := time.Now().Unix()
			base := func() map[string]any {
				return map[string]any{"iss": w.keycloak.Issuer(), "aud": "app", "sub": "mallory", "iat": now, "exp": now + 300, "nonce": "n"}
			}
			subjectOf(t, env, oidcLogin(c, "keycloak", w.keycloak.SignJWT(t, "RS256", nil, base()), "n"))
			for name, mutate := range map[string]func(map[string]any){
				"expired":          func(c map[string]any) { c["iat"], c["exp"] = now-7200, now-3600 },
				"not yet valid":    func(c map[string]any) { c["nbf"] = now + 3600 },
				"no expiry":        func(c map[string]any) { delete(c, "exp") },
				"another issuer":   func(c map[string]any) { c["iss"] = w.plain.Issuer() },
				"no subject":       func(c map[string]any) { delete(c, "sub") },
				"empty subject":    func(c map[string]any) { c["sub"] = "" },
				"another audience": func(c map[string]any) { c["aud"] = "other" },
				"foreign azp":      func(c map[string]any) { c["aud"], c["azp"] = []any{"app", "evil"}, "evil" },
			} {
				claims := base()
				mutate(claims)
				refused(t, oidcLogin(c, "keycloak", w.keycloak.SignJWT(t, "RS256", nil, claims), "n"), name)
			}
			// keycloak accepts RS256 only: its own ES256 key does not do.
			refused(t, oidcLogin(c, "keycloak", w.keycloak.SignJWT(t, "ES256", nil, base()), "n"), "an algorithm the provider is not configured for")
			tok := w.keycloak.SignJWT(t, "RS256", nil, base())
			parts := strings.Split(tok, ".")
			refused(t, oidcLogin(c, "keycloak", parts[0]+"."+parts[1]+".", "n"), "no signature")
			none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
			refused(t, oidcLogin(c, "keycloak", none+"."+parts[1]+".", "n"), "alg none")
		})
	})
}

// TestProviderKeys: rotation without a restart, forged kids throttled, a provider down and back.
func TestProviderKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, w *opWorld, env *testkit.Env) {
		c := env.Client
		login := func(nonce string) *testkit.Response {
			return oidcLogin(c, "keycloak", w.keycloak.IDToken(t, "app", "rotating", nonce, nil), nonce)
		}
		subjectOf(t, env, login("before"))

		t.Run("the provider rotates its key and logins keep working", func(t *testing.T) {
			old := w.keycloak.SigningKID("RS256")
			w.keycloak.RotateKeys(t)
			if w.keycloak.SigningKID("RS256") == old {
				t.Fatal("the provider did not rotate")
			}
			time.Sleep(refresh + 100*time.Millisecond) // the last fetch is older than the interval
			subjectOf(t, env, login("after-rotation"))
			w.keycloak.RetireOldKeys(t)
			time.Sleep(refresh + 100*time.Millisecond)
			subjectOf(t, env, login("after-retirement"))
		})

		t.Run("forged kids cause at most one key fetch per interval", func(t *testing.T) {
			time.Sleep(refresh + 100*time.Millisecond)
			before := w.keycloak.JWKSFetches()
			now := time.Now().Unix()
			var wg sync.WaitGroup
			start := time.Now()
			statuses := make([]int, 40)
			for i := range statuses {
				claims := map[string]any{"iss": w.keycloak.Issuer(), "aud": "app", "sub": "x", "iat": now, "exp": now + 300, "nonce": "n"}
				tok := w.keycloak.SignJWT(t, "RS256", map[string]any{"kid": fmt.Sprintf("forged-%d", i)}, claims)
				wg.Go(func() {
					statuses[i] = oidcLogin(c, "keycloak", tok, "n").Status
				})
			}
			wg.Wait()
			for i, s := range statuses {
				if s != 401 {
					t.Fatalf("forged kid %d: %d", i, s)
				}
			}
			// At most one fetch per interval begun: one, unless a loaded machine stretched the
			// burst past an interval.
			allowed := 1 + int(time.Since(start)/refresh)
			if fetched := w.keycloak.JWKSFetches() - before; fetched > allowed {
				t.Fatalf("40 forged kids made %d key fetches in %s, want at most %d (one per %s)", fetched, time.Since(start), allowed, refresh)
			}
			// The genuine key still works meanwhile.
			subjectOf(t, env, login("amid-forgeries"))
		})

		t.Run("a provider down is 503 until its keys can be fetched, then works without a restart", func(t *testing.T) {
			// plain's keys were never fetched by this service: nothing cached.
			tok := w.plain.IDToken(t, "app", "patient", "", nil)
			w.plain.Stop(t)
			if r := oidcLogin(c, "plain", tok, ""); r.Status != 503 {
				t.Fatalf("provider down, no keys cached: %d %s", r.Status, r.Body)
			}
			w.plain.Start(t)
			time.Sleep(refresh + 100*time.Millisecond)
			subjectOf(t, env, oidcLogin(c, "plain", tok, ""))
			// Cached keys outlive the provider: down again, known keys still verify.
			tok2 := w.plain.IDToken(t, "app", "patient", "", nil)
			w.plain.Stop(t)
			subjectOf(t, env, oidcLogin(c, "plain", tok2, ""))
		})
	})
}

// TestRemovedProviderIsRefused: a provider taken out of config is 404; its identities stay.
func TestRemovedProviderIsRefused(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t)
			env := testkit.Start(t, b, laneOptions(w.config(nil)))
			id := subjectOf(t, env, oidcLogin(env.Client, "plain", w.plain.IDToken(t, "app", "olga", "", nil), ""))
			// The next release of the tenant's config, on the same database.

			cfg := w.config(nil)
			cfg["modules.oidc.providers"].(map[string]any)["plain"].(map[string]any)["enabled"] = false
			env = testkit.Start(t, b, laneOptions(cfg))
			if r := oidcLogin(env.Client, "plain", w.plain.IDToken(t, "app", "olga", "", nil), ""); r.Status != 404 {
				t.Fatalf("disabled provider: %d %s", r.Status, r.Body)
			}
			if linked, err := store.NewIdentities(env.DB).Consumer(t.Context(), w.plain.Issuer(), "olga"); err != nil || linked != id {
				t.Fatalf("the identity went with its provider: %d, %v", linked, err)
			}
		})
	}
}
