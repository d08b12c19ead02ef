package schema

import (
	"errors"
	"regexp"
	"strings"
)

// pydantic matches patterns with Rust's regex crate, where \s, \d and \w are Unicode
// aware; RE2's are ASCII only. Without this rewrite a no-break space (U+00A0) would
// satisfy "[^@\s]" here but not in the legacy service.
const (
	wsClass   = `\t\n\v\f\r\x{85}\p{Z}`
	wordClass = `\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\x{200C}\x{200D}`
)

func compilePattern(p string) (*regexp.Regexp, error) {
	t, err := translatePattern(p)
	if err != nil {
		return nil, err
	}
	return regexp.Compile(t)
}

func translatePattern(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			i++
			e := p[i]
			switch e {
			case 's', 'S', 'd', 'D', 'w', 'W':
				if err := writeClassEscape(&b, e, inClass); err != nil {
					return "", err
				}
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal in both dialects.
			if i+1 < len(p) && p[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
				b.WriteString(`\]`)
			}
		case c == '[' && inClass:
			if i+1 < len(p) && p[i+1] == ':' {
				end := strings.Index(p[i:], ":]")
				if end < 0 {
					return "", errors.New("unterminated POSIX class")
				}
				b.WriteString(p[i : i+end+2])
				i += end + 1
				continue
			}
			return "", errors.New("nested character classes are not supported")
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func writeClassEscape(b *strings.Builder, e byte, inClass bool) error {
	var set string
	negate := e == 'S' || e == 'D' || e == 'W'
	switch e {
	case 'd':
		b.WriteString(`\p{Nd}`)
		return nil
	case 'D':
		b.WriteString(`\P{Nd}`)
		return nil
	case 's', 'S':
		set = wsClass
	case 'w', 'W':
		set = wordClass
	}
	if inClass {
		if negate {
			return errors.New(`\S and \W inside a character class are not supported`)
		}
		b.WriteString(set)
		return nil
	}
	b.WriteByte('[')
	if negate {
		b.WriteByte('^')
	}
	b.WriteString(set)
	b.WriteByte(']')
	return nil
}
