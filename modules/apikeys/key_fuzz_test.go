package apikeys

import (
	"context"
	"regexp"
	"testing"
)

var keyFormat = regexp.MustCompile(`^ck_[A-Za-z0-9_-]{43}$`)

// FuzzWellFormed: anything POST /tokens/verify receives with the ck_ prefix reaches wellFormed.
// It agrees with the documented format (ck_ and 43 base64url characters), and a malformed key is
// refused before any lookup: the verifier below has no store and no cache, so a lookup would
// panic. Every generated key is well formed.
func FuzzWellFormed(f *testing.F) {
	for _, s := range []string{"ck_" + "A234567890123456789012345678901234567890123", "ck_", "ck_=", "ck_" + "é2345678901234567890123456789012345678901", "CK_" + "A234567890123456789012345678901234567890123", "ost_abc"} {
		f.Add(s)
	}
	key, err := newKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(key)
	if !wellFormed(key) {
		f.Fatalf("generated key %q is not well formed", key)
	}
	bare := &Verifier{}
	f.Fuzz(func(t *testing.T, token string) {
		ok := wellFormed(token)
		if ok != keyFormat.MatchString(token) {
			t.Fatalf("wellFormed(%q) = %v, the format says %v", token, ok, !ok)
		}
		if ok {
			return
		}
		if claims, valid, err := bare.Verify(context.Background(), token); claims != nil || valid || err != nil {
			t.Fatalf("malformed %q: %v %v %v", token, claims, valid, err)
		}
	})
}
