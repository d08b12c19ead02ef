package ratelimit

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// fuzzTrusted are the trusted-proxy lists the client-IP fuzz targets pick from: none, one
// loopback, IPv4 and IPv6 ranges, and an IPv4-mapped prefix.
var fuzzTrusted = [][]string{
	nil,
	{"127.0.0.1"},
	{"10.0.0.0/8", "::1", "2001:db8:ffff::/48"},
	{"::ffff:192.168.0.0/112", "fe80::/10"},
}

// fuzzPeers are RemoteAddr values, trusted by some list or none; the fuzzer also gets to write
// its own.
var fuzzPeers = []string{"127.0.0.1:5000", "10.1.2.3:443", "[::1]:8080", "[fe80::1%eth0]:1", "192.168.3.4:9", "203.0.113.9:1234", "@"}

// referenceClientIP is ClientIP written plainly: split every line, walk the hops from the right.
func referenceClientIP(tp *TrustedProxies, remote string, lines []string) netip.Addr {
	peer := parseAddr(remote)
	if !peer.IsValid() || !tp.trusted(peer) {
		return peer
	}
	var hops []string
	for _, l := range lines {
		for _, h := range strings.Split(l, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(hops[i])
		if !a.IsValid() {
			return peer
		}
		if !tp.trusted(a) {
			return a
		}
		client = a
	}
	return client
}

// FuzzClientIP: whatever RemoteAddr and X-Forwarded-For hold, ClientIP never panics and returns
// an unmapped address without zone, invalid only for an unparseable peer; it agrees with the
// plain reference walk; an untrusted peer's X-Forwarded-For changes nothing; and behind a
// trusted proxy that appends the address it saw, whatever the client wrote before it (in the
// same line or lines of its own) cannot choose the result.
func FuzzClientIP(f *testing.F) {
	f.Add(uint8(1), uint8(0), "", "1.2.3.4", "", "5.6.7.8")
	f.Add(uint8(2), uint8(1), "", "10.0.0.1, 2001:db8::1", "10.9.9.9", "198.51.100.7")
	f.Add(uint8(3), uint8(4), "", "::ffff:192.168.0.1,[fe80::2%eth0]:80", "", "2001:db8::5")
	f.Add(uint8(0), uint8(255), "1.2.3.4:80", "9.9.9.9", "", "8.8.8.8")
	f.Add(uint8(2), uint8(1), "", "garbage,,, ,[::1", "127.0.0.1:99", "[2001:db8::9]:443")
	lists := make([]*TrustedProxies, len(fuzzTrusted))
	for i, cidrs := range fuzzTrusted {
		tp, err := NewTrustedProxies(cidrs)
		if err != nil {
			f.Fatal(err)
		}
		lists[i] = tp
	}
	f.Fuzz(func(t *testing.T, list, peerPick uint8, remote, line1, line2, real string) {
		tp := lists[int(list)%len(lists)]
		if int(peerPick) < len(fuzzPeers) {
			remote = fuzzPeers[peerPick]
		}
		req := func(lines ...string) *http.Request {
			r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
			for _, l := range lines {
				r.Header.Add("X-Forwarded-For", l)
			}
			return r
		}
		peer := parseAddr(remote)
		got := tp.ClientIP(req(line1, line2))
		switch {
		case got.IsValid() != peer.IsValid():
			t.Fatalf("peer %q parses as %v, client IP %v", remote, peer, got)
		case got.Is4In6() || got.Zone() != "":
			t.Fatalf("client IP %v is mapped or zoned", got)
		}
		if want := referenceClientIP(tp, remote, []string{line1, line2}); got != want {
			t.Fatalf("peer %q, X-Forwarded-For %q %q: %v, reference walk %v", remote, line1, line2, got, want)
		}
		if !peer.IsValid() || !tp.trusted(peer) {
			if got != peer {
				t.Fatalf("untrusted peer %q chose %v with X-Forwarded-For %q %q", remote, got, line1, line2)
			}
			return
		}
		// The trusted proxy appends the address it saw, as it writes addresses (canonical, no
		// zone, maybe a port): to the client's line, or as its own. What the fuzzer spells as
		// real may hold a comma (an IPv6 zone) that no proxy would write.
		seen := parseAddr(real)
		if !seen.IsValid() || tp.trusted(seen) {
			return
		}
		appended := seen.String()
		if ap, err := netip.ParseAddrPort(real); err == nil {
			appended = netip.AddrPortFrom(seen, ap.Port()).String()
		}
		for _, lines := range [][]string{{line1 + ", " + appended}, {line1, line2, appended}} {
			if got := tp.ClientIP(req(lines...)); got != seen {
				t.Fatalf("client %v behind trusted %q chose %v by sending %q", seen, remote, got, lines)
			}
		}
	})
}

// FuzzParseAddr: every form parseAddr accepts yields an unmapped address without zone, and a
// bare address parses as netip does; its limit key is the address (IPv4) or its /64 (IPv6,
// whatever the low 64 bits).
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4:80", "[::1]:443", "[::1]", "::ffff:1.2.3.4", "fe80::1%eth0", "[fe80::1%25eth0]:1", "", "[", "::1:80", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := parseAddr(s)
		if a.IsValid() && (a.Is4In6() || a.Zone() != "") {
			t.Fatalf("parseAddr(%q) = %v: mapped or zoned", s, a)
		}
		if want, err := netip.ParseAddr(s); err == nil && a != want.Unmap().WithZone("") {
			t.Fatalf("parseAddr(%q) = %v, netip says %v", s, a, want)
		}
		switch key := IPKey(a); {
		case !a.IsValid():
			if key != "invalid" {
				t.Fatalf("IPKey(invalid) = %q", key)
			}
		case a.Is4():
			if key != a.String() {
				t.Fatalf("IPKey(%v) = %q", a, key)
			}
		default:
			b := a.As16()
			for i := 8; i < 16; i++ {
				b[i] ^= 0xff
			}
			if other := IPKey(netip.AddrFrom16(b)); key != other || !strings.HasSuffix(key, "/64") {
				t.Fatalf("IPKey(%v) = %q, but %q for %v in the same /64", a, key, other, netip.AddrFrom16(b))
			}
		}
	})
}
