package attacks_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// A POS verifies offline tokens by signature while the venue network is down. With HS256 it held
// jwt.secret, which also signs admin access tokens, so one POS taken apart gave its owner every
// role. Offline and device tokens are now signed with a public-key algorithm (issue 12, item 5):
// here a thief holds everything a POS holds, and a tenant switches as docs/upgrading.md says.

// testSecret is the jwt.secret testkit configures: the key a POS held before.
const testSecret = "test-secret-test-secret-test-secret-0123"

// posKeys fetches GET /.well-known/jwks.json as a POS does while online, and returns its
// Ed25519 keys by kid, decoded here rather than by the service's code.
func posKeys(t *testing.T, env *testkit.Env) map[string]ed25519.PublicKey {
	t.Helper()
	r := env.Client.Do("GET", "/.well-known/jwks.json", nil)
	if r.Status != 200 {
		t.Fatalf("jwks: %d %s", r.Status, r.Body)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		for _, private := range []string{"d", "p", "q", "k"} {
			if _, leaked := k[private]; leaked {
				t.Fatalf("the JWKS publishes private key material %q: %v", private, k)
			}
		}
		if k["kty"] == "OKP" && k["crv"] == "Ed25519" && k["alg"] == "EdDSA" {
			x, err := base64.RawURLEncoding.DecodeString(k["x"].(string))
			if err != nil || len(x) != ed25519.PublicKeySize {
				t.Fatalf("jwks key %v: %v", k, err)
			}
			out[k["kid"].(string)] = ed25519.PublicKey(x)
		}
	}
	return out
}

// posVerify is the POS's offline check: the key its kid names among the published ones, the
// algorithm pinned to that key, issuer, audience, type and expiry.
func posVerify(keys map[string]ed25519.PublicKey, token string) error {
	_, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer("cashless-auth"), jwt.WithAudience("cashless-platform"), jwt.WithExpirationRequired())
	if err != nil {
		return err
	}
	claims := jwt.MapClaims{}
	_, _, _ = jwt.NewParser().ParseUnverified(token, claims)
	if claims["type"] != "offline" {
		return jwt.ErrTokenInvalidClaims
	}
	return nil
}

// hs256Verifies says whether token verifies with the HS256 secret, as old POS software checks.
func hs256Verifies(token string) bool {
	_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(testSecret), nil }, jwt.WithValidMethods([]string{"HS256"}))
	return err == nil
}

func alg(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := parsed.Header["alg"].(string)
	return a
}

// deviceLogin is the POS's own login (POST /auth/login/device): an offline token without sid.
func deviceLogin(t *testing.T, env *testkit.Env, mac string, event int64) string {
	t.Helper()
	r := env.Client.Do("POST", "/auth/login/device", map[string]any{"dev_mac": mac, "event_id": event}, fromNewIP()...)
	if r.Status != 200 {
		t.Fatalf("device login: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["offline_token"].(string)
}

// TestPOSHoldsNoMintingKey: every offline token (an operator's, an admin's for a device, a
// device's own) verifies on a POS with the published public keys alone and not with the secret;
// what a POS holds mints nothing the service accepts.
func TestPOSHoldsNoMintingKey(t *testing.T) {
	testkit.ForEachBackend(t, service(nil), func(t *testing.T, env *testkit.Env) {
		c := revocationClient{t, env}
		ev := env.Event(t, "Festival")
		op := env.User(t, "op@example.com", revocationPassword, "operator", &ev, 0)
		env.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
		dev := env.Device(t, ev, "02:00:00:00:00:1a", "Bar", &op)
		operator := c.login("op@example.com", revocationPassword, "operator")
		admin := c.login("admin@example.com", revocationPassword, "admin")
		issued := map[string]string{
			"operator's offline token":            c.offline(operator.access, ev, 0),
			"admin's offline token for a device":  c.offline(admin.access, ev, dev),
			"device login":                        deviceLogin(t, env, "02:00:00:00:00:1a", ev),
			"POST /devices/{id}/token (by admin)": tokenOf(t, c.do("POST", "/devices/"+strconv.FormatInt(dev, 10)+"/token", map[string]any{"operator_id": op}, admin.access)),
		}
		keys := posKeys(t, env)
		for what, tok := range issued {
			if a := alg(t, tok); a != "EdDSA" {
				t.Errorf("%s: alg %s, want EdDSA", what, a)
			}
			if err := posVerify(keys, tok); err != nil {
				t.Errorf("%s: a POS with the JWKS refuses it: %v", what, err)
			}
			if hs256Verifies(tok) {
				t.Errorf("%s: verifies with the HS256 secret, so a POS would still need it", what)
			}
		}
		c.expect(true, issued)
		if a := alg(t, admin.access); a != "HS256" {
			t.Errorf("access tokens: alg %s, want HS256 as before", a)
		}

		// The thief holds the public keys: HS256 keyed by them, under their kid, is refused.
		for kid, pub := range keys {
			forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "type": "offline", "role": "admin", "jti": "forged", "iss": "cashless-auth", "aud": "cashless-platform", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "event_id": ev})
			forged.Header["kid"] = kid
			tok, _ := forged.SignedString([]byte(pub))
			c.expect(false, map[string]string{"HS256 forged with the public key as secret": tok})
		}
		// Even the derived private key (the secret's, which no POS holds now) signs offline
		// tokens only: an admin access token under its kid gets nowhere.
		k, err := tokens.DeriveOfflineKey([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		uid := strconv.FormatInt(env.User(t, "root@example.com", revocationPassword, "admin", nil, 0), 10)
		forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"sub": uid, "type": "access", "role": "admin", "jti": "forged", "iss": "cashless-auth", "aud": "cashless-platform", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
		forged.Header["kid"] = k.ID
		tok, _ := forged.SignedString(k.Private)
		c.expect(false, map[string]string{"access token signed by the offline key": tok})
		if r := c.do("GET", "/admin/me", nil, tok); r.Status != 401 {
			t.Errorf("GET /admin/me with an access token signed by the offline key: %d", r.Status)
		}
	})
}

// derivedOffline is an offline token as a server without keyring signs it: with the key derived
// from testSecret.
func derivedOffline(t *testing.T, sub string, event int64) string {
	t.Helper()
	k, err := tokens.DeriveOfflineKey([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"sub": sub, "type": "offline", "role": "admin", "jti": tokens.NewID(), "iss": "cashless-auth", "aud": "cashless-platform", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "event_id": event})
	tok.Header["kid"] = k.ID
	signed, err := tok.SignedString(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func tokenOf(t *testing.T, r *testkit.Response) string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("offline token: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["offline_token"].(string)
}

// TestOldFleetThenSwitch: a tenant whose POS software still checks with the secret keeps HS256
// offline tokens (jwt.offline_signing: hs256); once it switches the setting off, the HS256 tokens
// its devices hold keep verifying until they expire, and new ones are EdDSA. Two servers on one
// database stand for the deployment before and after the switch.
func TestOldFleetThenSwitch(t *testing.T) {
	forEachBackendPair(t, map[string]any{"jwt.offline_signing": "hs256"}, nil, func(t *testing.T, before, after *testkit.Env) {
		ev := before.Event(t, "Festival")
		op := before.User(t, "op@example.com", revocationPassword, "operator", &ev, 0)
		before.Device(t, ev, "02:00:00:00:00:2a", "Bar", &op)
		old := deviceLogin(t, before, "02:00:00:00:00:2a", ev)
		if a := alg(t, old); a != "HS256" || !hs256Verifies(old) {
			t.Fatalf("jwt.offline_signing: hs256: alg %s, want an HS256 token the old POS accepts", a)
		}
		revocationClient{t, after}.expect(true, map[string]string{"HS256 device token issued before the switch": old})
		if a := alg(t, deviceLogin(t, after, "02:00:00:00:00:2a", ev)); a != "EdDSA" {
			t.Errorf("after the switch: alg %s, want EdDSA", a)
		}
	})
}

// TestKeyringRefusesHS256: with a keyring key signing, an HS256 token — which anyone holding the
// secret can mint, e.g. from an old POS — is refused unless jwt.hs256_until lies ahead (or, for
// offline tokens, the fleet setting is on), and the derived-key offline tokens of before the
// switch still verify.
func TestKeyringRefusesHS256(t *testing.T) {
	keyring := func(extra map[string]any) map[string]any {
		cfg := map[string]any{"jwt.keys_dir": testkit.StandInKeyring(t, "2026-12"), "jwt.active_kid": "2026-12"}
		for k, v := range extra {
			cfg[k] = v
		}
		return cfg
	}
	cases := []struct {
		name         string
		cfg          map[string]any
		hs256Offline bool
	}{
		{"no hs256_until", keyring(nil), false},
		{"hs256_until passed", keyring(map[string]any{"jwt.hs256_until": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)}), false},
		{"hs256_until ahead", keyring(map[string]any{"jwt.hs256_until": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}), true},
		{"offline_signing hs256", keyring(map[string]any{"jwt.offline_signing": "hs256"}), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackendPair(t, map[string]any{"jwt.offline_signing": "hs256"}, tc.cfg, func(t *testing.T, before, after *testkit.Env) {
				ev := before.Event(t, "Festival")
				op := before.User(t, "op@example.com", revocationPassword, "operator", &ev, 0)
				before.Device(t, ev, "02:00:00:00:00:3a", "Bar", &op)
				hs := deviceLogin(t, before, "02:00:00:00:00:3a", ev)
				forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "type": "offline", "role": "admin", "jti": "from-a-pos", "iss": "cashless-auth", "aud": "cashless-platform", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "event_id": ev})
				minted, _ := forged.SignedString([]byte(testSecret))
				a := revocationClient{t, after}
				a.expect(tc.hs256Offline, map[string]string{"HS256 device token": hs, "HS256 offline token minted with the secret": minted})
				a.expect(true, map[string]string{"derived-key offline token of before the keyring": derivedOffline(t, "1", ev)})
				if got := alg(t, deviceLogin(t, after, "02:00:00:00:00:3a", ev)); (got == "HS256") != (tc.cfg["jwt.offline_signing"] == "hs256") {
					t.Errorf("device token after the switch: alg %s", got)
				}
				if before.Backend != storetest.Postgres {
					return // sessions live in each embedded process: an access token needs a shared state store
				}
				before.User(t, "admin@example.com", revocationPassword, "admin", nil, 0)
				session := revocationClient{t, before}.login("admin@example.com", revocationPassword, "admin")
				until := tc.cfg["jwt.hs256_until"]
				accepted := until != nil && until.(string) > time.Now().UTC().Format(time.RFC3339)
				a.expect(accepted, map[string]string{"HS256 access token": session.access})
				if r := a.do("GET", "/admin/me", nil, session.access); (r.Status == 200) != accepted {
					t.Errorf("GET /admin/me with an HS256 access token: %d, accepted %v", r.Status, accepted)
				}
			})
		})
	}
}

// forEachBackendPair starts, on each backend, a server with cfgBefore and then one with
// cfgAfter on the same database (and Redis keyspace), as a deployment before and after a
// configuration change.
func forEachBackendPair(t *testing.T, cfgBefore, cfgAfter map[string]any, fn func(t *testing.T, before, after *testkit.Env)) {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			before := testkit.Start(t, b, service(cfgBefore))
			cfg := map[string]any{}
			if before.RedisPrefix != "" {
				cfg["redis.prefix"] = before.RedisPrefix
			}
			for k, v := range cfgAfter {
				cfg[k] = v
			}
			fn(t, before, testkit.Start(t, b, service(cfg)))
		})
	}
}
