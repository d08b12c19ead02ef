package store_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

var canonicalMAC = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)

// FuzzNormalizeMAC: a device's MAC arrives from the client at /auth/login/device. NormalizeMAC
// never panics; what it accepts comes out in the one stored form (six lower-case hex pairs with
// colons), carries the input's hex digits in order, is a fixed point, and is reached from every
// spelling the README promises (any case; ":", "-", "." or no separators).
func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff", "aabbccddeeff", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "gg:bb:cc:dd:ee:ff", "", "::::::", "aa:bb:cc:dd:ee:f\x00f", "ａa:bb:cc:dd:ee:ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := store.NormalizeMAC(in)
		if !ok {
			if out != "" {
				t.Fatalf("NormalizeMAC(%q) refused but returned %q", in, out)
			}
			return
		}
		if !canonicalMAC.MatchString(out) {
			t.Fatalf("NormalizeMAC(%q) = %q, not the canonical form", in, out)
		}
		var digits strings.Builder
		for _, r := range strings.ToLower(in) {
			switch {
			case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
				digits.WriteRune(r)
			case r == ':', r == '-', r == '.', r == ' ':
			default:
				t.Fatalf("NormalizeMAC(%q) accepted %q", in, r)
			}
		}
		if digits.String() != strings.ReplaceAll(out, ":", "") {
			t.Fatalf("NormalizeMAC(%q) = %q: not the input's digits", in, out)
		}
		hex := strings.ReplaceAll(out, ":", "")
		for _, spelling := range []string{out, strings.ToUpper(out), strings.ReplaceAll(out, ":", "-"), hex, strings.ToUpper(hex),
			hex[0:4] + "." + hex[4:8] + "." + hex[8:12]} {
			if again, ok := store.NormalizeMAC(spelling); !ok || again != out {
				t.Fatalf("NormalizeMAC(%q) = %q, %v; want %q like %q", spelling, again, ok, out, in)
			}
		}
	})
}
