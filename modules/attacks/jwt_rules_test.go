package attacks_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// Every JWT rule (NOTES.md, "Hardening decisions"): a token whose nbf lies beyond the leeway in
// the future, or whose header lists crit parameters (we understand no JWS extension), is refused
// by POST /tokens/verify and by the bearer guards (RFC 7519 §4.1.5, RFC 7515 §4.1.11). Before,
// golang-jwt never saw our nbf and never reads crit, so both passed. The attacker here holds what
// any other holder of the signing key has (a service sharing jwt.secret during a migration, a
// tool minting post-dated tokens for an event's opening): a correctly signed token whose rules a
// verifier must honour or refuse, never ignore.

// jwtSecret is testkit's jwt.secret; each test's control token, re-signed with it and accepted,
// proves it still is.
const jwtSecret = "test-secret-test-secret-test-secret-0123"

// jwtLeeway is the servers' jwt.leeway here: wide, so "within the leeway" holds on a loaded
// machine.
const jwtLeeway = 30 * time.Second

func jwtRulesService() testkit.Options {
	return service(map[string]any{"jwt.leeway": jwtLeeway.String()})
}

// segment encodes one JOSE segment: a string is sent as is (to control every byte), anything
// else as JSON.
func segment(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return base64.RawURLEncoding.EncodeToString([]byte(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signHS signs header and claims with the HS256 secret, whatever alg the header names.
func signHS(t *testing.T, key []byte, header, claims any) string {
	t.Helper()
	input := segment(t, header) + "." + segment(t, claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// signEd signs header and claims with an Ed25519 key.
func signEd(t *testing.T, key ed25519.PrivateKey, header, claims any) string {
	t.Helper()
	input := segment(t, header) + "." + segment(t, claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(input)))
}

// claimsOf decodes a token's claims, unverified, to re-sign them with a hostile header or nbf.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// admitted asks POST /tokens/verify and GET /admin/me about an access token and fails the test
// unless both agree with want; a refusal must be a 401 with WWW-Authenticate: Bearer.
func (c revocationClient) admitted(what, tok string, want bool) {
	c.t.Helper()
	if ok, claims := c.valid(tok); ok != want {
		c.t.Errorf("%s: /tokens/verify valid %v, want %v (claims %v)", what, ok, want, claims)
	}
	r := c.do("GET", "/admin/me", nil, tok)
	switch {
	case want && r.Status != 200:
		c.t.Errorf("%s: /admin/me %d %s, want 200", what, r.Status, r.Body)
	case !want && r.Status != 401:
		c.t.Errorf("%s: /admin/me %d %s, want 401", what, r.Status, r.Body)
	case !want && r.Header.Get("WWW-Authenticate") != "Bearer":
		c.t.Errorf("%s: /admin/me 401 with WWW-Authenticate %q, want Bearer", what, r.Header.Get("WWW-Authenticate"))
	}
}

// jwtAdmin creates an admin and logs it in; its access token's claims are what the tests re-sign,
// so the forged tokens name a real user and a live session and only the rule under test differs.
func jwtAdmin(t *testing.T, env *testkit.Env) (revocationClient, map[string]any) {
	t.Helper()
	c := revocationClient{t, env}
	env.User(t, "jwt-rules@example.com", revocationPassword, "admin", nil, 0)
	access := c.login("jwt-rules@example.com", revocationPassword, "admin").access
	return c, claimsOf(t, access)
}

var hsHeader = map[string]any{"alg": "HS256", "typ": "JWT"}

// TestJWTNotBefore: an access token whose nbf is beyond the leeway in the future is refused by
// /tokens/verify and /admin/me; one whose nbf is past, now, or within the leeway is admitted. An
// offline token (Ed25519, the derived key) follows the same rule.
func TestJWTNotBefore(t *testing.T) {
	testkit.ForEachBackend(t, jwtRulesService(), func(t *testing.T, env *testkit.Env) {
		c, claims := jwtAdmin(t, env)
		key := []byte(jwtSecret)
		now := time.Now().Unix()
		leeway := int64(jwtLeeway / time.Second)

		c.admitted("re-signed, no nbf (control)", signHS(t, key, hsHeader, claims), true)
		c.admitted("nbf an hour ago", signHS(t, key, hsHeader, with(claims, "nbf", now-3600)), true)
		c.admitted("nbf now", signHS(t, key, hsHeader, with(claims, "nbf", now)), true)
		c.admitted("nbf within the leeway", signHS(t, key, hsHeader, with(claims, "nbf", now+leeway/3)), true)
		c.admitted("nbf an hour ahead", signHS(t, key, hsHeader, with(claims, "nbf", now+3600)), false)
		c.admitted("nbf twice the leeway ahead", signHS(t, key, hsHeader, with(claims, "nbf", now+2*leeway)), false)
		// time.Unix wraps a second count this large into the distant past.
		c.admitted("nbf at the end of int64", signHS(t, key, hsHeader, with(claims, "nbf", int64(1<<63-1))), false)
		c.admitted("nbf as a string", signHS(t, key, hsHeader, with(claims, "nbf", "0")), false)

		// The same token asked again: a refusal is never cached into an admission.
		late := signHS(t, key, hsHeader, with(claims, "nbf", now+3600))
		for range 2 {
			c.admitted("nbf an hour ahead, again", late, false)
		}

		event := env.Event(t, "jwt-rules")
		offline := claimsOf(t, c.offline(signHS(t, key, hsHeader, claims), event, 0))
		k, err := tokens.DeriveOfflineKey(key)
		if err != nil {
			t.Fatal(err)
		}
		edHeader := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": k.ID}
		priv := k.Private.(ed25519.PrivateKey)
		c.expect(true, map[string]string{"offline, re-signed (control)": signEd(t, priv, edHeader, offline)})
		c.expect(false, map[string]string{"offline, nbf an hour ahead": signEd(t, priv, edHeader, with(offline, "nbf", now+3600))})
	})
}

// TestJWTCrit: a header listing crit is refused whatever it lists, empty or malformed included
// (RFC 7515 §4.1.11: a recipient that does not understand a listed extension must refuse the
// JWS; the list must not be empty). The same token without crit is admitted.
func TestJWTCrit(t *testing.T) {
	testkit.ForEachBackend(t, jwtRulesService(), func(t *testing.T, env *testkit.Env) {
		c, claims := jwtAdmin(t, env)
		key := []byte(jwtSecret)
		c.admitted("re-signed, no crit (control)", signHS(t, key, hsHeader, claims), true)
		for what, header := range map[string]any{
			`crit ["exp"]`:       map[string]any{"alg": "HS256", "crit": []string{"exp"}},
			`crit ["b64"]`:       map[string]any{"alg": "HS256", "b64": true, "crit": []string{"b64"}},
			`crit [] (empty)`:    map[string]any{"alg": "HS256", "crit": []string{}},
			`crit "exp"`:         map[string]any{"alg": "HS256", "crit": "exp"},
			`crit null`:          `{"alg":"HS256","crit":null}`,
			`crit [42]`:          `{"alg":"HS256","crit":[42]}`,
			`crit, extension`:    map[string]any{"alg": "HS256", "https://example.com/ext": 1, "crit": []string{"https://example.com/ext"}},
			`crit, listed twice`: `{"alg":"HS256","crit":["exp"],"crit":["exp"]}`,
		} {
			c.admitted(what, signHS(t, key, header, claims), false)
		}
	})
}

// TestJWTHostileHeaders: alg and kid are the key's, never the token's choice. Each token below is
// signed with something the attacker has (or the real secret, where the header alone is wrong).
func TestJWTHostileHeaders(t *testing.T) {
	testkit.ForEachBackend(t, jwtRulesService(), func(t *testing.T, env *testkit.Env) {
		c, claims := jwtAdmin(t, env)
		key := []byte(jwtSecret)
		offline, err := tokens.DeriveOfflineKey(key)
		if err != nil {
			t.Fatal(err)
		}
		offlinePub := []byte(offline.Public.(ed25519.PublicKey))
		attackerPub, attackerPriv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		input := segment(t, `{"alg":"none","typ":"JWT"}`) + "." + segment(t, claims)

		c.admitted("re-signed (control)", signHS(t, key, hsHeader, claims), true)
		for what, tok := range map[string]string{
			"alg none, no signature":    input + ".",
			"alg none, HS256 signature": input + "." + strings.Split(signHS(t, key, `{"alg":"none","typ":"JWT"}`, claims), ".")[2],
			"alg None":                  signHS(t, key, map[string]any{"alg": "None"}, claims),
			"alg hs256 (lower case)":    signHS(t, key, map[string]any{"alg": "hs256"}, claims),
			"alg HS512 label":           signHS(t, key, map[string]any{"alg": "HS512"}, claims),
			"alg missing":               signHS(t, key, map[string]any{"typ": "JWT"}, claims),
			"alg a number":              signHS(t, key, `{"alg":256}`, claims),
			"alg an array":              signHS(t, key, `{"alg":["HS256"]}`, claims),
			"kid unknown":               signHS(t, key, map[string]any{"alg": "HS256", "kid": "2020-01"}, claims),
			"kid a path":                signHS(t, key, map[string]any{"alg": "HS256", "kid": "../../../../dev/null"}, claims),
			"kid a number":              signHS(t, key, `{"alg":"HS256","kid":1}`, claims),
			"kid an object":             signHS(t, key, `{"alg":"HS256","kid":{"id":"x"}}`, claims),
			"kid empty":                 signHS(t, key, `{"alg":"HS256","kid":""}`, claims),
			// Algorithm confusion: HMAC keyed with the published public key of the offline key.
			"HS256 keyed with the offline public key": signHS(t, offlinePub, map[string]any{"alg": "HS256", "kid": offline.ID}, claims),
			// The offline key may sign offline tokens only, never an access token.
			"access token signed by the offline key": signEd(t, offline.Private.(ed25519.PrivateKey), map[string]any{"alg": "EdDSA", "kid": offline.ID}, claims),
			"EdDSA without kid":                      signEd(t, attackerPriv, map[string]any{"alg": "EdDSA"}, claims),
			// A key embedded in the header (RFC 7515 jwk) or fetched from a URL (jku) is never believed.
			"EdDSA with an embedded jwk": signEd(t, attackerPriv, map[string]any{"alg": "EdDSA", "kid": offline.ID, "jwk": map[string]any{
				"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(attackerPub)}}, claims),
			"EdDSA with a jku": signEd(t, attackerPriv, map[string]any{"alg": "EdDSA", "kid": "attacker", "jku": "https://attacker.example/jwks.json"}, claims),
		} {
			c.admitted(what, tok, false)
		}
	})
}

// TestJWTOneSpelling: an issued token has no second spelling that passes. The signature's last
// character carries two unused bits and the base64 decoder skipped line breaks, so each token
// had three more spellings (found by FuzzVerifyMutated): anything that keys tokens by their
// text, a gateway's cache or a deny-list, would miss them.
func TestJWTOneSpelling(t *testing.T) {
	testkit.ForEachBackend(t, jwtRulesService(), func(t *testing.T, env *testkit.Env) {
		c, claims := jwtAdmin(t, env)
		tok := signHS(t, []byte(jwtSecret), hsHeader, claims)
		c.admitted("issued spelling (control)", tok, true)
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, tok[len(tok)-1])
		for k := range 4 {
			if sibling := last&^3 | k; sibling != last { // the same four data bits
				c.admitted("padding bits changed", tok[:len(tok)-1]+alphabet[sibling:sibling+1], false)
			}
		}
		// A line break cannot travel in a header; it can in the JSON body of /tokens/verify.
		for _, brk := range []string{"\n", "\r", "\r\n"} {
			c.expect(false, map[string]string{"line break in the signature": tok[:len(tok)-10] + brk + tok[len(tok)-10:]})
		}
	})
}

// TestJWTClaimNamesInAnotherCase: claim names are case-sensitive (RFC 7519 §4). Read with
// encoding/json's case folding, {"sub":"1","Sub":"2"} named subject 2 here and subject 1 in any
// other JWT library, and "EXP" could outvote an expired "exp"; such a token is now refused.
func TestJWTClaimNamesInAnotherCase(t *testing.T) {
	testkit.ForEachBackend(t, jwtRulesService(), func(t *testing.T, env *testkit.Env) {
		c, claims := jwtAdmin(t, env)
		key := []byte(jwtSecret)
		c.admitted("re-signed (control)", signHS(t, key, hsHeader, claims), true)
		c.admitted(`"Sub" beside "sub"`, signHS(t, key, hsHeader, with(claims, "Sub", "2")), false)
		// Written by hand: encoding/json sorts a map's keys, and "EXP" must come last to win.
		b, err := json.Marshal(claims)
		if err != nil {
			t.Fatal(err)
		}
		outvoted := fmt.Sprintf(`%s,"exp":%d,"EXP":%d}`, b[:len(b)-1], time.Now().Add(-time.Hour).Unix(), time.Now().Add(time.Hour).Unix())
		c.admitted(`"EXP" after an expired "exp"`, signHS(t, key, hsHeader, outvoted), false)
		c.admitted(`"ſub" (long s) beside "sub"`, signHS(t, key, hsHeader, with(claims, "ſub", "2")), false)
	})
}
