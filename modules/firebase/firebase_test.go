package firebase_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/store"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
	"github.com/cashlessmedia/cashless-auth/modules/firebase"
)

// The emulator's default project (scripts/services.sh firebase-emulator-start): sign-ups with
// any API key land there.
const project = "demo-cashless"

// emulator returns the Auth emulator's address, or stops the test with what to do.
func emulator(t *testing.T) string {
	t.Helper()
	if os.Getenv("CASHLESS_AUTH_TEST_FIREBASE") == "off" {
		t.Skip("CASHLESS_AUTH_TEST_FIREBASE=off: Firebase emulator tests skipped")
	}
	if testing.Short() {
		t.Skip("-short: the Firebase emulator tests need the emulator")
	}
	host := os.Getenv(firebase.EmulatorHostEnv)
	if host == "" {
		t.Fatalf("%s is not set. These tests need the Firebase Auth emulator: `make test` starts it; by hand, "+
			"`bash scripts/services.sh firebase-emulator-start` and export %s=127.0.0.1:9099. "+
			"CASHLESS_AUTH_TEST_FIREBASE=off skips them.", firebase.EmulatorHostEnv, firebase.EmulatorHostEnv)
	}
	resp, err := http.Get("http://" + host + "/")
	if err != nil {
		t.Fatalf("the Firebase Auth emulator at %s=%s does not answer (%v): start it with `bash scripts/services.sh firebase-emulator-start`", firebase.EmulatorHostEnv, host, err)
	}
	resp.Body.Close()
	return host
}

// user is an account in the emulator.
type user struct {
	UID, Email, Password, IDToken string
}

var seq atomic.Int64

func emulatorCall(t *testing.T, host, path string, body any, admin bool) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", "http://"+host+"/identitytoolkit.googleapis.com/v1/"+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if admin {
		req.Header.Set("Authorization", "Bearer owner") // the emulator's admin credential
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("emulator %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		t.Fatalf("emulator %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

// signUp creates an e-mail/password user through the emulator's REST API and signs it in.
func signUp(t *testing.T, host string) user {
	t.Helper()
	u := user{Email: fmt.Sprintf("fan%d-%d@example.com", time.Now().UnixNano(), seq.Add(1)), Password: "secret-pass-1"}
	out := emulatorCall(t, host, "accounts:signUp?key=fake-api-key", map[string]any{"email": u.Email, "password": u.Password, "returnSecureToken": true}, false)
	u.UID, u.IDToken = out["localId"].(string), out["idToken"].(string)
	return u
}

// signIn returns a fresh ID token, carrying the user's current attributes.
func signIn(t *testing.T, host string, u user) string {
	t.Helper()
	out := emulatorCall(t, host, "accounts:signInWithPassword?key=fake-api-key", map[string]any{"email": u.Email, "password": u.Password, "returnSecureToken": true}, false)
	return out["idToken"].(string)
}

func adminUpdate(t *testing.T, host string, u user, fields map[string]any) {
	t.Helper()
	fields["localId"] = u.UID
	emulatorCall(t, host, "projects/"+project+"/accounts:update", fields, true)
}

// withPhone gives u a phone number no other emulator user holds (the emulator keeps users as
// long as it runs, across backends and runs) and deletes u at the end of the test.
func withPhone(t *testing.T, host string, u user) string {
	t.Helper()
	phone := fmt.Sprintf("+1%d555%04d", []int{202, 212, 305, 415, 617}[rand.IntN(5)], rand.IntN(10000))
	adminUpdate(t, host, u, map[string]any{"phoneNumber": phone})
	t.Cleanup(func() {
		emulatorCall(t, host, "projects/"+project+"/accounts:delete", map[string]any{"localId": u.UID}, true)
	})
	return phone
}

// rewrite returns token with its payload claims changed (the emulator's tokens are unsigned).
func rewrite(t *testing.T, token string, change func(claims map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	change(claims)
	raw, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func lane(cfg map[string]any) testkit.Options {
	c := map[string]any{
		"modules.firebase.enabled":        true,
		"modules.firebase.project_id":     project,
		"modules.firebase.allow_emulator": true,
		"ratelimit.routes.firebase.login": "1000/minute",
	}
	for k, v := range cfg {
		c[k] = v
	}
	return testkit.Options{Plugins: modules.All(), Config: c}
}

func login(c *testkit.Client, token string) *testkit.Response {
	return c.Do("POST", "/auth/login/firebase", map[string]any{"id_token": token})
}

func consumerOf(t *testing.T, env *testkit.Env, r *testkit.Response) store.Consumer {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	v := env.Client.Do("POST", "/tokens/verify", map[string]any{"token": r.JSON(t)["access_token"]}).JSON(t)
	claims, _ := v["claims"].(map[string]any)
	if v["valid"] != true || claims["role"] != "consumer" {
		t.Fatalf("platform token: %v", v)
	}
	var id int64
	fmt.Sscan(claims["sub"].(string), &id)
	c, err := store.NewConsumers(env.DB).ByID(context.Background(), id)
	if err != nil {
		t.Fatalf("consumer %d: %v", id, err)
	}
	return c
}

// linkedTo is the consumer the Firebase identity uid is linked to: issuer and subject as the
// emulator's tokens state them.
func linkedTo(t *testing.T, env *testkit.Env, uid string) int64 {
	t.Helper()
	id, err := store.NewIdentities(env.DB).Consumer(t.Context(), "https://securetoken.google.com/"+project, uid)
	if err != nil {
		t.Fatalf("identity of %s: %v", uid, err)
	}
	return id
}

// subjectOf is the sub of a login's access token, or what went wrong; safe off the test goroutine.
func subjectOf(c *testkit.Client, r *testkit.Response) string {
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &pair) != nil {
		return fmt.Sprintf("login: %d %s", r.Status, r.Body)
	}
	v := c.Do("POST", "/tokens/verify", map[string]any{"token": pair.AccessToken})
	var verified struct {
		Claims struct {
			Sub string `json:"sub"`
		} `json:"claims"`
	}
	if v.Status != 200 || json.Unmarshal(v.Body, &verified) != nil || verified.Claims.Sub == "" {
		return fmt.Sprintf("verify: %d %s", v.Status, v.Body)
	}
	return verified.Claims.Sub
}

func legacyUID(t *testing.T, env *testkit.Env, consumerID int64) string {
	t.Helper()
	var uid sql.NullString
	if err := env.DB.X.QueryRowContext(t.Context(), env.DB.X.Rebind(`SELECT firebase_uid FROM consumers WHERE id = ?`), consumerID).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	return uid.String
}

func TestFirebaseLogin(t *testing.T) {
	host := emulator(t)
	testkit.ForEachBackend(t, lane(nil), func(t *testing.T, env *testkit.Env) {
		c := env.Client

		t.Run("an emulator ID token is exchanged for consumer tokens", func(t *testing.T) {
			u := signUp(t, host)
			first := consumerOf(t, env, login(c, u.IDToken))
			if first.Email == nil || *first.Email != u.Email || linkedTo(t, env, u.UID) != first.ID {
				t.Fatalf("consumer %+v, want the identity of uid %s linked to it, email %s", first, u.UID, u.Email)
			}
			again := consumerOf(t, env, login(c, signIn(t, host, u)))
			if again.ID != first.ID {
				t.Fatalf("second login is consumer %d, first was %d", again.ID, first.ID)
			}
			// The previous release finds consumers by this column: rolled back to, it must find
			// the ones this release created (expand, then contract).
			if legacy := legacyUID(t, env, first.ID); legacy != u.UID {
				t.Fatalf("consumers.firebase_uid = %q, want %q", legacy, u.UID)
			}
		})

		t.Run("a consumer an earlier release linked by firebase_uid keeps its id", func(t *testing.T) {
			u := signUp(t, host)
			var id int64
			if err := env.DB.X.QueryRowContext(t.Context(), env.DB.X.Rebind(
				`INSERT INTO consumers (firebase_uid, email) VALUES (?, ?) RETURNING id`), u.UID, u.Email).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if got := consumerOf(t, env, login(c, u.IDToken)); got.ID != id {
				t.Fatalf("login is consumer %d, the earlier release's is %d", got.ID, id)
			}
			if linked := linkedTo(t, env, u.UID); linked != id {
				t.Fatalf("identity linked to %d, want %d", linked, id)
			}
		})

		t.Run("concurrent first logins of one user make one consumer", func(t *testing.T) {
			u := signUp(t, host)
			withPhone(t, host, u)
			tok := signIn(t, host, u)
			const n = 8
			subs := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					subs[i] = subjectOf(c, login(c, tok))
				})
			}
			wg.Wait()
			for _, sub := range subs {
				if sub != subs[0] {
					t.Fatalf("concurrent first logins: %q", subs)
				}
			}
		})

		t.Run("the phone claim is kept in E.164", func(t *testing.T) {
			u := signUp(t, host)
			phone := withPhone(t, host, u)
			got := consumerOf(t, env, login(c, signIn(t, host, u)))
			if got.Phone == nil || *got.Phone != phone {
				t.Fatalf("phone %v, want %s", got.Phone, phone)
			}
		})

		t.Run("a phone held by another consumer is not taken over", func(t *testing.T) {
			u := signUp(t, host)
			phone := withPhone(t, host, u)
			phoneUser, _, err := store.NewConsumers(env.DB).UpsertByPhone(context.Background(), phone)
			if err != nil {
				t.Fatal(err)
			}
			got := consumerOf(t, env, login(c, signIn(t, host, u)))
			if got.ID == phoneUser.ID || got.Phone != nil || linkedTo(t, env, u.UID) != got.ID {
				t.Fatalf("got %+v, phone consumer is %d", got, phoneUser.ID)
			}
		})

		t.Run("tampered, expired and foreign tokens are 401s with one message", func(t *testing.T) {
			u := signUp(t, host)
			tok := u.IDToken
			past := time.Now().Add(-2 * time.Hour).Unix()
			cases := map[string]string{
				"garbage":         "not-a-jwt",
				"truncated":       tok[:len(tok)/2],
				"payload garbled": strings.Replace(tok, ".", ".x", 1),
				"another uid":     rewrite(t, tok, func(c map[string]any) { c["sub"], c["user_id"] = "no-such-user", "no-such-user" }),
				"expired":         rewrite(t, tok, func(c map[string]any) { c["iat"], c["exp"], c["auth_time"] = past-3600, past, past-3600 }),
				"issued in the future": rewrite(t, tok, func(c map[string]any) {
					c["iat"] = time.Now().Add(time.Hour).Unix()
				}),
				"other audience": rewrite(t, tok, func(c map[string]any) {
					c["aud"], c["iss"] = "demo-other", "https://securetoken.google.com/demo-other"
				}),
				"other issuer": rewrite(t, tok, func(c map[string]any) { c["iss"] = "https://evil.example.com/" + project }),
			}
			var details []string
			for name, bad := range cases {
				r := login(c, bad)
				if r.Status != 401 {
					t.Fatalf("%s: %d %s", name, r.Status, r.Body)
				}
				details = append(details, r.Detail(t))
			}
			for _, d := range details {
				if d != details[0] {
					t.Fatalf("401 messages differ: %q", details)
				}
			}
			// The original still works: nothing above was a near miss.
			consumerOf(t, env, login(c, tok))
		})

		t.Run("a disabled user is refused", func(t *testing.T) {
			u := signUp(t, host)
			adminUpdate(t, host, u, map[string]any{"disableUser": true})
			if r := login(c, u.IDToken); r.Status != 401 {
				t.Fatalf("disabled user: %d %s", r.Status, r.Body)
			}
		})

		t.Run("malformed bodies are 422s", func(t *testing.T) {
			for _, body := range []any{map[string]any{}, map[string]any{"id_token": 5}, map[string]any{"id_token": "x", "extra": 1}} {
				if r := c.Do("POST", "/auth/login/firebase", body); r.Status != 422 {
					t.Fatalf("%v: %d", body, r.Status)
				}
			}
		})
	})
}

// TestOtherProject: a genuine emulator token of project demo-cashless presented to a service
// configured for another project.
func TestOtherProject(t *testing.T) {
	host := emulator(t)
	testkit.ForEachBackend(t, lane(map[string]any{"modules.firebase.project_id": "demo-other"}), func(t *testing.T, env *testkit.Env) {
		if r := login(env.Client, signUp(t, host).IDToken); r.Status != 401 {
			t.Fatalf("token of another project: %d %s", r.Status, r.Body)
		}
	})
}

// TestCheckRevoked runs the VerifyIDTokenAndCheckRevoked path. (Against the emulator the SDK
// looks the user up for every token, so revocation is also caught without check_revoked.)
func TestCheckRevoked(t *testing.T) {
	host := emulator(t)
	testkit.ForEachBackend(t, lane(map[string]any{"modules.firebase.check_revoked": true}), func(t *testing.T, env *testkit.Env) {
		u := signUp(t, host)
		consumerOf(t, env, login(env.Client, u.IDToken))
		// Revoke every token issued so far (validSince is in seconds: step past this one).
		adminUpdate(t, host, u, map[string]any{"validSince": fmt.Sprint(time.Now().Unix() + 1)})
		if r := login(env.Client, u.IDToken); r.Status != 401 {
			t.Fatalf("revoked token: %d %s", r.Status, r.Body)
		}
	})
}

// TestFirebaseUnreachable: the SDK cannot reach Firebase (here the emulator's user lookup, which
// the SDK makes for every emulator token) → 503, not 401.
func TestFirebaseUnreachable(t *testing.T) {
	host := emulator(t)
	token := signUp(t, host).IDToken
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens there any more
	t.Setenv(firebase.EmulatorHostEnv, dead)
	testkit.ForEachBackend(t, lane(map[string]any{"modules.firebase.timeout": "1s"}), func(t *testing.T, env *testkit.Env) {
		if r := login(env.Client, token); r.Status != 503 {
			t.Fatalf("Firebase unreachable: %d %s", r.Status, r.Body)
		}
	})
}

func TestRateLimitPerIP(t *testing.T) {
	emulator(t)
	testkit.ForEachBackend(t, testkit.Options{Plugins: modules.All(), Config: map[string]any{
		"modules.firebase.enabled": true, "modules.firebase.project_id": project, "modules.firebase.allow_emulator": true,
	}}, func(t *testing.T, env *testkit.Env) {
		for i := 0; i < 30; i++ {
			if r := login(env.Client, "not-a-jwt"); r.Status != 401 {
				t.Fatalf("attempt %d: %d", i+1, r.Status)
			}
		}
		if r := login(env.Client, "not-a-jwt"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("31st attempt: %d", r.Status)
		}
	})
}

// TestDisabledByDefault: without configuration the lane is off, answers 404 and is not documented.
func TestDisabledByDefault(t *testing.T) {
	testkit.ForEachBackend(t, testkit.Options{Plugins: modules.All()}, func(t *testing.T, env *testkit.Env) {
		if r := login(env.Client, "whatever"); r.Status != 404 {
			t.Fatalf("disabled lane: %d", r.Status)
		}
		if r := env.Client.Do("GET", "/openapi.json", nil); strings.Contains(string(r.Body), "/auth/login/firebase") {
			t.Fatal("disabled lane still documented")
		}
	})
}

func TestConfigIsChecked(t *testing.T) {
	on := func(extra map[string]any) map[string]any {
		m := map[string]any{"modules.firebase.enabled": true}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	t.Setenv(firebase.EmulatorHostEnv, "")
	if _, _, err := core.Load("", modules.All(), on(nil)); err == nil || !strings.Contains(err.Error(), "modules.firebase.project_id") {
		t.Errorf("no project id: %v", err)
	}
	if _, _, err := core.Load("", modules.All(), on(map[string]any{"modules.firebase.project_id": "p", "modules.firebase.credentials_file": "/nonexistent/sa.json"})); err == nil || !strings.Contains(err.Error(), "modules.firebase.credentials_file") {
		t.Errorf("missing credentials file: %v", err)
	}
	if _, _, err := core.Load("", modules.All(), on(map[string]any{"modules.firebase.project_id": "p"})); err != nil {
		t.Errorf("valid: %v", err)
	}

	// The emulator variable must be acknowledged, since it turns signature checks off.
	t.Setenv(firebase.EmulatorHostEnv, "127.0.0.1:9099")
	if _, _, err := core.Load("", modules.All(), on(map[string]any{"modules.firebase.project_id": "p"})); err == nil || !strings.Contains(err.Error(), firebase.EmulatorHostEnv) {
		t.Errorf("emulator without allow_emulator: %v", err)
	}
	if _, _, err := core.Load("", modules.All(), on(map[string]any{"modules.firebase.project_id": "p", "modules.firebase.allow_emulator": true})); err != nil {
		t.Errorf("emulator allowed: %v", err)
	}
	// Only the enabled module cares.
	if _, _, err := core.Load("", modules.All(), nil); err != nil {
		t.Errorf("module off: %v", err)
	}
}

// TestMain sends the test binary's HTTPS through a proxy that does not exist, so that Google's
// public certificates can never be fetched here, with or without network: the production-mode
// tests below are then deterministic. Loopback traffic (the emulator, the test servers) never
// goes through a proxy.
func TestMain(m *testing.M) {
	os.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	os.Setenv("https_proxy", "http://127.0.0.1:1")
	os.Exit(m.Run())
}

// productionToken turns an emulator token into one shaped like Firebase's own (RS256 with a
// key id) but signed by nobody.
func productionToken(t *testing.T, emulatorToken string) string {
	t.Helper()
	parts := strings.Split(emulatorToken, ".")
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"0123456789abcdef","typ":"JWT"}`))
	parts[2] = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 256))
	return strings.Join(parts, ".")
}

// TestProductionMode runs the lane as deployed (no emulator variable): the emulator's unsigned
// tokens are refused outright, and a well-formed token whose signing keys cannot be fetched
// from Google is a 503, not a 401.
func TestProductionMode(t *testing.T) {
	host := emulator(t)
	u := signUp(t, host)
	t.Setenv(firebase.EmulatorHostEnv, "")
	testkit.ForEachBackend(t, lane(map[string]any{"modules.firebase.allow_emulator": false, "modules.firebase.timeout": "2s"}), func(t *testing.T, env *testkit.Env) {
		if r := login(env.Client, u.IDToken); r.Status != 401 {
			t.Fatalf("unsigned emulator token in production mode: %d %s", r.Status, r.Body)
		}
		if r := login(env.Client, productionToken(t, u.IDToken)); r.Status != 503 {
			t.Fatalf("certificates unreachable: %d %s", r.Status, r.Body)
		}
	})
}
