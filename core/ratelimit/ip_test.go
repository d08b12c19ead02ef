package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4":              "1.2.3.4",
		"::ffff:1.2.3.4":       "1.2.3.4",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"fe80::1%eth0":         "fe80::/64",
		"::1":                  "::/64",
	} {
		if got := IPKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("IPKey(%s) = %q, want %q", in, got, want)
		}
	}
	if got := IPKey(netip.Addr{}); got != "invalid" {
		t.Errorf("IPKey(invalid) = %q", got)
	}
}

func TestNewTrustedProxies(t *testing.T) {
	tp, err := NewTrustedProxies([]string{" 10.0.0.0/8", "127.0.0.1", "::1", "", "2001:db8::/32", "::ffff:192.168.0.0/112", "172.16.5.4/12", "fe80::1%eth0"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range tp.Prefixes() {
		got = append(got, p.String())
	}
	want := "10.0.0.0/8 127.0.0.1/32 ::1/128 2001:db8::/32 192.168.0.0/16 172.16.0.0/12 fe80::1/128"
	if strings.Join(got, " ") != want {
		t.Fatalf("prefixes = %v, want %s", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "foo", "10.0.0.0/", "1.2.3", "10.0.0.0/8/8", "::1/129", "localhost"} {
		_, err := NewTrustedProxies([]string{"10.0.0.0/8", bad})
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %q", err, bad)
		}
	}
	empty, err := NewTrustedProxies(nil)
	if err != nil || len(empty.Prefixes()) != 0 {
		t.Fatalf("nil list: %v, %v", empty.Prefixes(), err)
	}
}

func TestClientIP(t *testing.T) {
	tp, err := NewTrustedProxies([]string{"10.0.0.0/8", "::1", "2001:db8:ffff::/48"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"no header", "10.0.0.1:1234", nil, "10.0.0.1"},
		{"untrusted peer, forged header ignored", "203.0.113.9:1234", []string{"1.1.1.1"}, "203.0.113.9"},
		{"untrusted peer, forged chain ignored", "203.0.113.9:1234", []string{"1.1.1.1, 10.0.0.2"}, "203.0.113.9"},
		{"trusted peer", "10.0.0.1:1234", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-forged left part skipped", "10.0.0.1:1234", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"trusted hops skipped", "10.0.0.1:1234", []string{"6.6.6.6, 198.51.100.7, 10.0.0.3, 10.0.0.2"}, "198.51.100.7"},
		{"several header lines", "10.0.0.1:1234", []string{"6.6.6.6", "198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"several header lines, last untrusted", "10.0.0.1:1234", []string{"198.51.100.7", "6.6.6.6"}, "6.6.6.6"},
		{"empty elements", "10.0.0.1:1234", []string{" , 198.51.100.7 ,,", ""}, "198.51.100.7"},
		{"invalid rightmost falls back to peer", "10.0.0.1:1234", []string{"198.51.100.7, garbage"}, "10.0.0.1"},
		{"invalid after trusted hop falls back to peer", "10.0.0.1:1234", []string{"unknown, 10.0.0.2"}, "10.0.0.1"},
		{"invalid left of the client never read", "10.0.0.1:1234", []string{"garbage, 198.51.100.7"}, "198.51.100.7"},
		{"obfuscated identifier", "10.0.0.1:1234", []string{"_hidden"}, "10.0.0.1"},
		{"all trusted: leftmost", "10.0.0.1:1234", []string{"10.0.0.9, 10.0.0.2"}, "10.0.0.9"},
		{"ports in entries", "10.0.0.1:1234", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"IPv6 with port in entries", "10.0.0.1:1234", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"IPv6 bracketed", "10.0.0.1:1234", []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"IPv6 peer", "[::1]:8080", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 trusted hop", "[::1]:8080", []string{"2001:db8::7, 2001:db8:ffff::1"}, "2001:db8::7"},
		{"IPv6 untrusted peer", "[2001:db8::5]:8080", []string{"1.1.1.1"}, "2001:db8::5"},
		{"mapped peer is trusted", "[::ffff:10.0.0.1]:8080", []string{"198.51.100.7"}, "198.51.100.7"},
		{"mapped entry unmapped", "10.0.0.1:1", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"zone stripped", "10.0.0.1:1", []string{"fe80::1%eth0"}, "fe80::1"},
		{"peer without port", "10.0.0.1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"unparseable peer", "@", []string{"198.51.100.7"}, "invalid IP"},
		{"empty peer", "", nil, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tp.ClientIP(r).String(); got != tc.want {
				t.Fatalf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestClientIPWithoutTrustedProxies(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "1.1.1.1")
	var nilTP *TrustedProxies
	empty, _ := NewTrustedProxies(nil)
	for _, tp := range []*TrustedProxies{nilTP, empty} {
		if got := tp.ClientIP(r).String(); got != "127.0.0.1" {
			t.Fatalf("ClientIP = %s, want the peer", got)
		}
	}
}
