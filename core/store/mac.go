package store

import "strings"

// NormalizeMAC returns mac as devices are stored and looked up: twelve lower-case hex digits
// separated by colons, whatever case and separators (":", "-", ".", none) the caller used.
func NormalizeMAC(mac string) (string, bool) {
	var hex []byte
	for i := 0; i < len(mac); i++ {
		c := mac[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			hex = append(hex, c)
		case c >= 'A' && c <= 'F':
			hex = append(hex, c+'a'-'A')
		case c == ':' || c == '-' || c == '.' || c == ' ':
		default:
			return "", false
		}
	}
	if len(hex) != 12 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.Write(hex[i : i+2])
	}
	return b.String(), true
}
