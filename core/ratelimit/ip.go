package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// IPKey names a client address for per-IP limits: IPv4 (and IPv4-mapped IPv6) by the full
// address, IPv6 by its /64, because one subscriber usually holds a whole /64 and could otherwise
// rotate through 2^64 addresses, each with a fresh bucket. An invalid address yields "invalid", so
// unparseable clients share one bucket instead of escaping limits.
func IPKey(ip netip.Addr) string { return string(AppendIPKey(nil, ip)) }

// AppendIPKey appends IPKey(ip) to b.
func AppendIPKey(b []byte, ip netip.Addr) []byte {
	ip = ip.Unmap().WithZone("")
	switch {
	case ip.Is4():
		return ip.AppendTo(b)
	case ip.Is6():
		return netip.PrefixFrom(ip, 64).Masked().AppendTo(b)
	}
	return append(b, "invalid"...)
}

// TrustedProxies resolves the client IP. X-Forwarded-For is honoured only when the direct peer
// (r.RemoteAddr) is inside one of the configured prefixes; then the list is walked from the right,
// skipping trusted proxies, and the first untrusted address is the client. Entries further left
// were written by the client itself and prove nothing. A nil *TrustedProxies trusts nobody.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// NewTrustedProxies parses CIDRs ("10.0.0.0/8", "2001:db8::/32") and single addresses
// ("127.0.0.1", "::1"); empty entries are skipped so "a,,b" from an environment variable works.
func NewTrustedProxies(cidrs []string) (*TrustedProxies, error) {
	tp := &TrustedProxies{}
	for _, raw := range cidrs {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		p, err := parseTrusted(s)
		if err != nil {
			return nil, fmt.Errorf("ratelimit: trusted proxy %q is neither an IP address nor a CIDR prefix such as 10.0.0.0/8", raw)
		}
		tp.prefixes = append(tp.prefixes, p)
	}
	return tp, nil
}

func parseTrusted(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		// Addresses are unmapped before matching, so a ::ffff:a.b.c.d/N prefix must be too.
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Prefixes returns the trusted prefixes, normalised.
func (tp *TrustedProxies) Prefixes() []netip.Prefix {
	if tp == nil {
		return nil
	}
	return append([]netip.Prefix(nil), tp.prefixes...)
}

func (tp *TrustedProxies) trusted(a netip.Addr) bool {
	for _, p := range tp.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address of r, unmapped and without zone. It is the invalid Addr only
// when r.RemoteAddr itself cannot be parsed (e.g. a Unix socket peer).
func (tp *TrustedProxies) ClientIP(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if tp == nil || len(tp.prefixes) == 0 || !peer.IsValid() || !tp.trusted(peer) {
		return peer
	}
	// Multiple header lines count as one comma-joined list (RFC 9110 §5.3), in arrival order;
	// it is walked from the right without splitting it (this runs on every request).
	lines := r.Header.Values("X-Forwarded-For")
	client := peer
	for l := len(lines) - 1; l >= 0; l-- {
		rest := lines[l]
		for rest != "" {
			hop := rest
			if i := strings.LastIndexByte(rest, ','); i >= 0 {
				hop, rest = rest[i+1:], rest[:i]
			} else {
				rest = ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue
			}
			a := parseAddr(hop)
			if !a.IsValid() {
				// The list is corrupt from here leftwards; the trusted peer is all we know for sure.
				return peer
			}
			if !tp.trusted(a) {
				return a
			}
			// Every hop so far is trusted: keep the leftmost, in case the client is one of ours.
			client = a
		}
	}
	return client
}

// parseAddr accepts "ip", "ip:port" and "[ipv6]:port" (some proxies append ports).
func parseAddr(s string) netip.Addr {
	// Try the likely form first: a failed parse allocates its error, and this runs on every
	// request (RemoteAddr has a port; X-Forwarded-For entries usually do not).
	if s != "" && (s[0] == '[' || strings.Count(s, ":") == 1) {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone("")
		}
	} else if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	// "[::1]" without a port, or a host:port with a zone ParseAddrPort rejected. The port must
	// be one: SplitHostPort takes anything after the last colon, and "1.2.3.4:,5" is no address.
	if host, port, err := net.SplitHostPort(s); err == nil && validPort(port) {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}

func validPort(p string) bool {
	_, err := strconv.ParseUint(p, 10, 16)
	return err == nil
}
