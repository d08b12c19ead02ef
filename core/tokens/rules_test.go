package tokens

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// forge signs header and claims byte for byte as given (a string is sent as is, anything else as
// JSON), so a test controls what no library would produce: duplicate keys, wrong types.
func forge(t testing.TB, header, claims any, sign func(input []byte) []byte) string {
	t.Helper()
	seg := func(v any) string {
		if s, ok := v.(string); ok {
			return base64.RawURLEncoding.EncodeToString([]byte(s))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := seg(header) + "." + seg(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

func hsWith(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

func edWith(key ed25519.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte { return ed25519.Sign(key, input) }
}

// claimsAt are valid access-token claims for newHS's service, issued at now.
func claimsAt(now time.Time) map[string]any {
	return map[string]any{"sub": "1", "type": TypeAccess, "jti": "j", "iss": "iss", "aud": "aud",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func set(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

const hsHeader = `{"alg":"HS256","typ":"JWT"}`

// TestNotBefore: nbf up to the leeway (1 s for newHS) ahead is accepted, beyond it refused, on the
// first verification and from the cache alike; an nbf that is no NumericDate of ours is refused.
func TestNotBefore(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name string
		nbf  any
		ok   bool
	}{
		{"absent", nil, true},
		{"an hour ago", now.Add(-time.Hour).Unix(), true},
		{"now", now.Unix(), true},
		{"at the leeway", now.Add(time.Second).Unix(), true},
		{"just beyond the leeway", now.Add(2 * time.Second).Unix(), false},
		{"an hour ahead", now.Add(time.Hour).Unix(), false},
		{"year 9999", int64(maxNumericDate), false},
		{"2^63-1, which time.Unix wraps into the past", int64(1<<63 - 1), false},
		{"a string", "1700000000", false},
		{"fractional", 1_700_000_000.5, false},
		{"null", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newHS(t)
			s.SetClock(func() time.Time { return now })
			claims := claimsAt(now)
			if tc.name != "absent" {
				claims = set(claims, "nbf", tc.nbf)
			}
			tok := forge(t, hsHeader, claims, hsWith(secret))
			for i := range 2 { // the second is a cache hit when the first was accepted
				c, err := s.Verify(tok)
				if (err == nil) != tc.ok {
					t.Fatalf("call %d: accepted %v (%v), want %v", i, err == nil, err, tc.ok)
				}
				if err == nil && tc.nbf != nil && c.NotBefore != tc.nbf.(int64) {
					t.Fatalf("nbf %d, want %v", c.NotBefore, tc.nbf)
				}
			}
		})
	}
}

// TestTimeClaimsOutOfRange: exp and iat beyond year 9999 are refused as nbf is; time.Unix would
// wrap them (an exp of 2^63-1 looked long expired, an iat of 2^63-1 long past).
func TestTimeClaimsOutOfRange(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newHS(t)
	s.SetClock(func() time.Time { return now })
	for _, claim := range []string{"exp", "iat", "nbf"} {
		for _, v := range []int64{maxNumericDate + 1, 1<<63 - 1} {
			tok := forge(t, hsHeader, set(claimsAt(now), claim, v), hsWith(secret))
			if _, err := s.Verify(tok); err == nil {
				t.Errorf("%s %d accepted", claim, v)
			}
		}
	}
	tok := forge(t, hsHeader, set(claimsAt(now), "exp", int64(maxNumericDate)), hsWith(secret))
	if _, err := s.Verify(tok); err != nil {
		t.Errorf("exp at the end of year 9999 refused: %v", err)
	}
}

// TestCacheDecidesAsParse: once a token is in the cache of verified tokens, Verify answers at
// every instant around its iat, nbf and exp (whole and half seconds, the clock stepping back
// included) exactly as a full parse would: the cache never serves a token before its nbf or
// iat, nor a second past its expiry.
func TestCacheDecidesAsParse(t *testing.T) {
	issued := time.Unix(1_800_000_000, 0)
	for _, leeway := range []time.Duration{0, time.Second, 1500 * time.Millisecond, 5 * time.Second} {
		s, err := New(Config{Secret: secret, Issuer: "iss", Audience: "aud", Leeway: leeway})
		if err != nil {
			t.Fatal(err)
		}
		base := claimsAt(issued)
		toks := map[string]string{
			"plain":              forge(t, hsHeader, set(base, "exp", issued.Add(10*time.Second).Unix()), hsWith(secret)),
			"nbf ahead of iat":   forge(t, hsHeader, set(base, "nbf", issued.Add(3*time.Second).Unix(), "exp", issued.Add(10*time.Second).Unix()), hsWith(secret)),
			"nbf before iat":     forge(t, hsHeader, set(base, "nbf", issued.Add(-3*time.Second).Unix(), "exp", issued.Add(10*time.Second).Unix()), hsWith(secret)),
			"nbf at exp minus 1": forge(t, hsHeader, set(base, "nbf", issued.Add(9*time.Second).Unix(), "exp", issued.Add(10*time.Second).Unix()), hsWith(secret)),
		}
		for name, tok := range toks {
			warmed := false
			// Forward through the token's life, then back again: the way back is a clock stepping back.
			var steps []time.Duration
			for d := -8 * time.Second; d <= 18*time.Second; d += 500 * time.Millisecond {
				steps = append(steps, d)
			}
			for i := len(steps) - 1; i >= 0; i-- {
				steps = append(steps, steps[i])
			}
			for _, d := range steps {
				at := issued.Add(d)
				s.SetClock(func() time.Time { return at })
				_, perr := s.parse(tok)
				_, verr := s.Verify(tok)
				warmed = warmed || verr == nil
				if (perr == nil) != (verr == nil) {
					t.Errorf("leeway %v, %s, at %+v: parse says %v, Verify (cache warm: %v) says %v", leeway, name, d, perr, warmed, verr)
				}
			}
			if !warmed {
				t.Errorf("leeway %v, %s: never accepted, so the cache was never tested", leeway, name)
			}
		}
	}
}

// TestCrit: we understand no JWS extension, so a header carrying crit is refused whatever it
// holds (RFC 7515 §4.1.11), on HS256 and on the offline key's EdDSA tokens alike.
func TestCrit(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newHS(t)
	s.SetClock(func() time.Time { return now })
	claims := claimsAt(now)
	if _, err := s.Verify(forge(t, hsHeader, claims, hsWith(secret))); err != nil {
		t.Fatalf("control without crit: %v", err)
	}
	for _, crit := range []string{`["exp"]`, `["b64"],"b64":true`, `[]`, `"exp"`, `null`, `[42]`, `{}`, `["x"],"x":1`} {
		header := `{"alg":"HS256","crit":` + crit + `}`
		if _, err := s.Verify(forge(t, header, claims, hsWith(secret))); err == nil {
			t.Errorf("%s accepted", header)
		}
	}

	k, err := DeriveOfflineKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	offline := set(claims, "type", TypeOffline)
	ok := forge(t, fmt.Sprintf(`{"alg":"EdDSA","kid":%q}`, k.ID), offline, edWith(k.Private.(ed25519.PrivateKey)))
	if _, err := s.Verify(ok); err != nil {
		t.Fatalf("offline control without crit: %v", err)
	}
	crit := forge(t, fmt.Sprintf(`{"alg":"EdDSA","kid":%q,"crit":["exp"]}`, k.ID), offline, edWith(k.Private.(ed25519.PrivateKey)))
	if _, err := s.Verify(crit); err == nil {
		t.Error("offline token with crit accepted")
	}
}

// TestHostileHeaders: the key decides alg; kid is a keyring name or absent, never another type,
// and an absent kid means HS256 with the secret only.
func TestHostileHeaders(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newHS(t)
	s.SetClock(func() time.Time { return now })
	claims := claimsAt(now)
	k, err := DeriveOfflineKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	pub := []byte(k.Public.(ed25519.PublicKey))
	for name, tok := range map[string]string{
		"alg none":                              forge(t, `{"alg":"none"}`, claims, func([]byte) []byte { return nil }),
		"alg none, HMAC":                        forge(t, `{"alg":"none"}`, claims, hsWith(secret)),
		"alg hs256":                             forge(t, `{"alg":"hs256"}`, claims, hsWith(secret)),
		"alg HS384":                             forge(t, `{"alg":"HS384"}`, claims, hsWith(secret)),
		"alg missing":                           forge(t, `{"typ":"JWT"}`, claims, hsWith(secret)),
		"alg null":                              forge(t, `{"alg":null}`, claims, hsWith(secret)),
		"alg twice, none last":                  forge(t, `{"alg":"HS256","alg":"none"}`, claims, hsWith(secret)),
		"kid null":                              forge(t, `{"alg":"HS256","kid":null}`, claims, hsWith(secret)),
		"kid empty":                             forge(t, `{"alg":"HS256","kid":""}`, claims, hsWith(secret)),
		"kid a number":                          forge(t, `{"alg":"HS256","kid":7}`, claims, hsWith(secret)),
		"kid unknown":                           forge(t, `{"alg":"HS256","kid":"nope"}`, claims, hsWith(secret)),
		"HS256 keyed by the offline public key": forge(t, fmt.Sprintf(`{"alg":"HS256","kid":%q}`, k.ID), claims, hsWith(pub)),
		"access signed by the offline key":      forge(t, fmt.Sprintf(`{"alg":"EdDSA","kid":%q}`, k.ID), claims, edWith(k.Private.(ed25519.PrivateKey))),
		"EdDSA without kid":                     forge(t, `{"alg":"EdDSA"}`, claims, edWith(k.Private.(ed25519.PrivateKey))),
		"header not an object":                  forge(t, `["HS256"]`, claims, hsWith(secret)),
		"claims not an object":                  forge(t, hsHeader, `"sub"`, hsWith(secret)),
	} {
		if _, err := s.Verify(tok); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestClaimNamesInAnotherCase: claim names are case-sensitive (RFC 7519 §4), but encoding/json
// folds case, so "Sub" was read as a second subject and "EXP" as a second expiry, where other
// JWT libraries see an unknown claim. A token naming one of our claims in another case is
// refused; of duplicate exact names the last wins.
func TestClaimNamesInAnotherCase(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := newHS(t)
	s.SetClock(func() time.Time { return now })
	base := `"type":"access","jti":"j","iss":"iss","aud":"aud","iat":1800000000`
	for _, tc := range []struct {
		claims string
		sub    string // "" when refused
	}{
		{`{"sub":"1",` + base + `,"exp":1800003600,"Sub":"2"}`, ""},
		{`{"SUB":"2","sub":"1",` + base + `,"exp":1800003600}`, ""},
		{`{"\u0053ub":"2","sub":"1",` + base + `,"exp":1800003600}`, ""},
		{`{"ſub":"2","sub":"1",` + base + `,"exp":1800003600}`, ""}, // U+017F folds to s
		{`{"sub":"1",` + base + `,"exp":1800003600,"subject":"2","SUBS":"3"}`, "1"},
		{`{"\u0073ub":"1",` + base + `,"exp":1800003600}`, "1"},
		{`{"sub":"2","sub":"1",` + base + `,"exp":1800003600}`, "1"},
		{`{"Sub":"1",` + base + `,"exp":1800003600}`, ""},
		{`{"sub":"1",` + base + `,"exp":1700000000,"EXP":1800003600}`, ""},
		{`{"sub":"1",` + base + `,"Exp":1800003600}`, ""},
		{`{"sub":"1",` + base + `,"exp":1800003600,"nbf":1800003000,"NBF":0}`, ""},
		{`{"sub":"1",` + base + `,"exp":1800003600,"Iss":"other"}`, ""},
		{`{"sub":"1",` + base + `,"exp":1800003600,"x":{"Sub":"2"},"y":["Sub"]}`, "1"},
		{`{"sub":"\u0031",` + base + `,"exp":1800003600}`, "1"},
		{`{"sub":"1",` + base + `,"exp":1800003600.0}`, ""},
		{`{"sub":"1",` + base + `,"exp":18000036e2}`, ""},
	} {
		c, err := s.Verify(forge(t, hsHeader, tc.claims, hsWith(secret)))
		switch {
		case tc.sub == "" && err == nil:
			t.Errorf("%s accepted as subject %q", tc.claims, c.Subject)
		case tc.sub != "" && err != nil:
			t.Errorf("%s refused: %v", tc.claims, err)
		case tc.sub != "" && c.Subject != tc.sub:
			t.Errorf("%s read as subject %q, want %q", tc.claims, c.Subject, tc.sub)
		}
	}
}

// TestOneSpellingPerToken: a valid token has no second spelling. The base64 decoder skipped
// line breaks in the signature, which the signature does not cover, and ignored the unused low
// bits of its last character (found by FuzzVerifyMutated).
func TestOneSpellingPerToken(t *testing.T) {
	s := newHS(t)
	tok, _, err := s.Issue(Claims{Subject: "1", Type: TypeAccess}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok); err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var variants []string
	for _, ch := range alphabet {
		if v := tok[:len(tok)-1] + string(ch); v != tok {
			variants = append(variants, v)
		}
	}
	for _, ins := range []string{"\n", "\r", "\r\n", " ", "="} {
		variants = append(variants, tok[:len(tok)-5]+ins+tok[len(tok)-5:], tok+ins)
	}
	for _, v := range variants {
		if _, err := s.Verify(v); err == nil {
			t.Errorf("second spelling accepted: %q", v[len(v)-8:])
		}
	}
}

// TestClaimNamesListed: foldedClaimName guards every claim Claims reads.
func TestClaimNamesListed(t *testing.T) {
	tagged := taggedNames()
	if len(tagged) != len(claimNames) {
		t.Fatalf("Claims reads %v, claimNames lists %v", tagged, claimNames)
	}
	for i, name := range tagged {
		if claimNames[i] != name {
			t.Fatalf("Claims reads %v, claimNames lists %v", tagged, claimNames)
		}
	}
}

// TestIsClaimName: the fast exact match agrees with claimNames.
func TestIsClaimName(t *testing.T) {
	for _, name := range claimNames {
		if !isClaimName([]byte(name)) {
			t.Errorf("isClaimName(%q) is false", name)
		}
	}
	for _, name := range []string{"", "Sub", "subs", "kid", "x"} {
		if isClaimName([]byte(name)) {
			t.Errorf("isClaimName(%q) is true", name)
		}
	}
}
