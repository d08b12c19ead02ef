package tokens

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// The fuzz targets' service runs on a fixed clock, so the tokens they issue, and the seeds in
// testdata/fuzz, stay valid however long a run lasts.
var fuzzNow = time.Unix(1_800_000_000, 0)

const fuzzLeeway = 5 * time.Second

// fuzzService is an HS256 service (the default deployment) with the derived offline key, and the
// tokens it issued: deterministic (fixed clock and jti), so every worker issues the same ones.
func fuzzService(t testing.TB) (*Service, map[string]Claims) {
	t.Helper()
	s, err := New(Config{Secret: secret, Issuer: "iss", Audience: "aud", Leeway: fuzzLeeway})
	if err != nil {
		t.Fatal(err)
	}
	s.SetClock(func() time.Time { return fuzzNow })
	event := int64(3)
	issued := map[string]Claims{}
	for _, c := range []Claims{
		{Subject: "1", Type: TypeAccess, Role: "admin", ID: "fuzz-access", Session: "fuzz-session"},
		{Subject: "1", Type: TypeRefresh, Role: "admin", ID: "fuzz-refresh", Session: "fuzz-session"},
		{Subject: "7", Type: TypeOffline, Role: "operator", ID: "fuzz-offline", EventID: &event},
	} {
		tok, out, err := s.Issue(c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		issued[tok] = out
	}
	return s, issued
}

// FuzzVerify: Verify on arbitrary text never panics and accepts nothing but the exact tokens the
// service issued, with their claims; a second call (a cache hit for an accepted token) agrees.
func FuzzVerify(f *testing.F) {
	s, issued := fuzzService(f)
	for tok := range issued {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		var first error
		for call := range 2 {
			c, err := s.Verify(tok)
			if call == 0 {
				first = err
			} else if (err == nil) != (first == nil) {
				t.Fatalf("first call %v, second %v", first, err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
					t.Fatalf("error %v is none of the documented ones", err)
				}
				continue
			}
			want, ok := issued[tok]
			if !ok {
				t.Fatalf("accepted %q, which the service never issued (claims %+v)", tok, c)
			}
			if c.ID != want.ID || c.Subject != want.Subject || c.Type != want.Type || c.ExpiresAt != want.ExpiresAt {
				t.Fatalf("claims %+v, issued %+v", c, want)
			}
		}
	})
}

// FuzzVerifyMutated edits one of the issued tokens (cuts bytes at a position and inserts
// others), where arbitrary text rarely lands: any accepted token must be the original, byte for
// byte. An alternative spelling of a valid token (padding bits, line breaks the base64 decoder
// skips) would slip past anything keyed by the token's text.
func FuzzVerifyMutated(f *testing.F) {
	s, issued := fuzzService(f)
	toks := make([]string, 0, len(issued))
	for tok := range issued {
		toks = append(toks, tok)
	}
	sort.Strings(toks)
	f.Add(uint8(0), uint16(0), uint8(0), "")
	f.Add(uint8(1), uint16(1000), uint8(1), "A")
	f.Add(uint8(2), uint16(40), uint8(0), "\n")
	f.Add(uint8(0), uint16(1000), uint8(0), "=")
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, cut uint8, insert string) {
		orig := toks[int(which)%len(toks)]
		p := int(pos) % (len(orig) + 1)
		end := min(p+int(cut), len(orig))
		tok := orig[:p] + insert + orig[end:]
		if _, err := s.Verify(tok); err == nil && tok != orig {
			t.Fatalf("accepted %q, an edit of the issued %q", tok, orig)
		}
	})
}

// FuzzVerifySigned plays another holder of the keys: header and claims are arbitrary bytes,
// correctly signed, with the HS256 secret or the offline key. Whatever Verify accepts must obey
// every rule as any JWT reader sees the token (names are case-sensitive, RFC 7519 §4): the
// pinned algorithm and key, no crit, iss, aud, exp, iat and nbf within the leeway, a subject,
// jti and type, and the claims Verify returns are the ones the token carries.
func FuzzVerifySigned(f *testing.F) {
	s, _ := fuzzService(f)
	k, err := DeriveOfflineKey(secret)
	if err != nil {
		f.Fatal(err)
	}
	now := fuzzNow.Unix()
	claims := func(extra string) string {
		return `{"sub":"1","type":"access","jti":"j","iss":"iss","aud":"aud","iat":1800000000,"exp":1800003600` + extra + `}`
	}
	offline := `{"sub":"7","type":"offline","jti":"j","iss":"iss","aud":"aud","iat":1800000000,"exp":1800003600,"event_id":3}`
	edHeader := `{"alg":"EdDSA","kid":"` + k.ID + `"}`
	for _, seed := range []struct {
		header, claims string
		offline        bool
	}{
		{`{"alg":"HS256","typ":"JWT"}`, claims(""), false},
		{`{"alg":"HS256"}`, claims(`,"nbf":1800000004`), false},
		{`{"alg":"HS256"}`, claims(`,"nbf":1800003600`), false},
		{`{"alg":"HS256","crit":["exp"]}`, claims(""), false},
		{`{"alg":"HS256","kid":""}`, claims(""), false},
		{`{"alg":"HS256"}`, claims(`,"EXP":1700000000`), false},
		{`{"alg":"HS256"}`, claims(`,"Sub":"2"`), false},
		{edHeader, offline, true},
		{edHeader, claims(""), true},
		{`{"alg":"EdDSA","kid":"` + k.ID + `","crit":[]}`, offline, true},
	} {
		f.Add(seed.header, seed.claims, seed.offline)
	}
	priv := k.Private.(ed25519.PrivateKey)
	names := taggedNames()
	f.Fuzz(func(t *testing.T, header, claims string, offline bool) {
		sign := hsWith(secret)
		if offline {
			sign = edWith(priv)
		}
		tok := forge(t, header, claims, sign)
		c, err := s.Verify(tok)
		if err != nil {
			return
		}
		if _, err := s.Verify(tok); err != nil {
			t.Fatalf("accepted, then refused from the cache: %v", err)
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(header), &h); err != nil {
			t.Fatalf("accepted a header that is no JSON object: %v", err)
		}
		if _, ok := h["crit"]; ok {
			t.Fatal("accepted a header with crit")
		}
		kid, hasKid := h["kid"]
		switch {
		case offline && (h["alg"] != "EdDSA" || kid != k.ID || c.Type != TypeOffline):
			t.Fatalf("offline key: accepted alg %v kid %v type %q", h["alg"], kid, c.Type)
		case !offline && (h["alg"] != "HS256" || hasKid):
			t.Fatalf("secret: accepted alg %v kid %v", h["alg"], kid)
		}
		// The claims as a case-sensitive reader sees them (the last of duplicate names wins).
		var m map[string]any
		if err := json.Unmarshal([]byte(claims), &m); err != nil {
			t.Fatalf("accepted claims that are no JSON object: %v", err)
		}
		raw, err := c.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var read map[string]any
		if err := json.Unmarshal(raw, &read); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if want, got := zeroless(m[name]), zeroless(read[name]); !reflect.DeepEqual(want, got) {
				t.Fatalf("claim %q is %v in the token, Verify read %v (%s)", name, want, got, claims)
			}
		}
		str := func(name string) string { v, _ := m[name].(string); return v }
		if str("iss") != "iss" || str("aud") != "aud" || str("sub") == "" || str("jti") == "" || str("type") == "" {
			t.Fatalf("accepted iss %q aud %q sub %q jti %q type %q", str("iss"), str("aud"), str("sub"), str("jti"), str("type"))
		}
		lw := int64(fuzzLeeway / time.Second)
		if exp, ok := m["exp"].(float64); !ok || int64(exp) <= now-lw {
			t.Fatalf("accepted exp %v at %d", m["exp"], now)
		}
		if iat, ok := m["iat"].(float64); ok && int64(iat) > now+lw {
			t.Fatalf("accepted iat %v at %d", iat, now)
		}
		if nbf, ok := m["nbf"].(float64); ok && int64(nbf) > now+lw {
			t.Fatalf("accepted nbf %v at %d", nbf, now)
		}
	})
}

// taggedNames are the JSON names of Claims' fields, from their tags, so a claim added later is
// checked too.
func taggedNames() []string {
	var names []string
	typ := reflect.TypeFor[Claims]()
	for i := range typ.NumField() {
		if name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// zeroless maps the values Claims does not tell from an absent claim (null, "", 0) to nil.
func zeroless(v any) any {
	switch v {
	case "", float64(0):
		return nil
	}
	return v
}

// FuzzFoldedClaimName checks the hand-written walk of foldedClaimName against encoding/json
// itself: each member name of a valid object is offered alone to a struct with a string field
// per claim name, and is folded when it lands in a field not named exactly like it.
func FuzzFoldedClaimName(f *testing.F) {
	for _, seed := range []string{`{}`, `{"sub":"1"}`, `{"Sub":"1"}`, ` { "a" : [ {"Sub":1}, "]" ] , "EXP" : 1 } `,
		`{"\u0053ub":1}`, `{"ſub":1}`, `{"İss":1,"ıss":2}`, `{"a\"Sub":1,"b":"\\","NBF":null}`, `[{"Sub":1}]`, `"Sub"`,
		`{"k":{"Sub":{}},"x":-1.5e3}`} {
		f.Add([]byte(seed))
	}
	fields := make([]reflect.StructField, len(claimNames))
	for i, name := range claimNames {
		fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: reflect.TypeFor[string](), Tag: reflect.StructTag(`json:"` + name + `"`)}
	}
	probe := reflect.StructOf(fields)
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		want := false
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) == nil {
			for name := range m {
				one, _ := json.Marshal(map[string]string{name: "x"})
				v := reflect.New(probe)
				if err := json.Unmarshal(one, v.Interface()); err != nil {
					t.Fatal(err)
				}
				for i, ours := range claimNames {
					if v.Elem().Field(i).String() != "" && name != ours {
						want = true
					}
				}
			}
		}
		if got := foldedClaimName(b); got != want {
			t.Fatalf("foldedClaimName(%s) = %v, encoding/json's matching says %v", b, got, want)
		}
	})
}
