package operatortoken

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

// FuzzCleanMAC: dev_mac at POST /devices/operator-token is the client's text, recorded as the
// user's last_dev_mac. What CleanMAC records is storable on both backends (valid UTF-8, no NUL
// or other control character), at most maxDevMAC characters, a MAC in its canonical form, and
// stable: cleaning it again changes nothing.
func FuzzCleanMAC(f *testing.F) {
	for _, s := range []string{"AA:BB:CC:DD:EE:FF", "aabb.ccdd.eeff", "legacy-device-42", "", "\x00\x01\x7f", "AA:BB:CC:DD:EE:F\x00F", "\xff\xfe", "a\u200bb", "\u00e9\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := CleanMAC(in)
		if !utf8.ValidString(out) {
			t.Fatalf("CleanMAC(%q) = %q: not UTF-8", in, out)
		}
		n := 0
		for _, r := range out {
			n++
			if !unicode.IsPrint(r) {
				t.Fatalf("CleanMAC(%q) = %q holds %U", in, out, r)
			}
		}
		if n > maxDevMAC {
			t.Fatalf("CleanMAC(%q) = %q: %d characters", in, out, n)
		}
		if norm, ok := store.NormalizeMAC(out); ok && norm != out {
			t.Fatalf("CleanMAC(%q) = %q, a MAC not in its canonical form %q", in, out, norm)
		}
		if again := CleanMAC(out); again != out {
			t.Fatalf("CleanMAC(%q) = %q, then %q", in, out, again)
		}
	})
}
