package sessions

import (
	"net/netip"
	"strings"
	"testing"
)

// TestNetwork: a session keeps the client's network, never its address.
func TestNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":        "203.0.113.0/24",
		"::ffff:198.51.100.9": "198.51.100.0/24",
		"2001:db8:abcd:12::1": "2001:db8:abcd::/48",
		"fe80::1%eth0":        "fe80::/48",
		"":                    "",
	} {
		var ip netip.Addr
		if in != "" {
			ip = netip.MustParseAddr(in)
		}
		if got := network(ip); got != want {
			t.Errorf("network(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSanitiseUserAgent: what a terminal or a page could misread never leaves the store, and a
// long agent is cut at a character boundary. The HTTP server already refuses most C0 controls;
// this does not rely on it.
func TestSanitiseUserAgent(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for in, want := range map[string]string{
		"curl/8.5.0":                        "curl/8.5.0",
		"a\x00b\x01c\x1b[2Jd\x7fe":          "abc[2Jde",
		"tab\there\r\nnext":                 "tab here  next",
		"rtl\u202eoverride\u009bcsi\xffend": "rtloverridecsiend",
		"  \t ":                             "",
		long:                                strings.Repeat("é", MaxUserAgent/2),
	} {
		got := sanitiseUserAgent(in)
		if got != want {
			t.Errorf("sanitiseUserAgent(%q) = %q, want %q", in, got, want)
		}
		if len(got) > MaxUserAgent {
			t.Errorf("sanitiseUserAgent(%q) keeps %d bytes", in, len(got))
		}
	}
}
