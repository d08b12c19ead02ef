package schema

import "unicode/utf8"

// The parser mirrors CPython's json module (Modules/_json.c, 3.13) rather than
// encoding/json, because clients see its error messages and positions in
// json_invalid issues. It produces a flat pre-order token array that references the
// input bytes, so a valid body costs no allocations beyond a pooled slice.

type jtype uint8

const (
	tNull jtype = iota
	tFalse
	tTrue
	tInt
	tFloat
	tString
	tArray
	tObject
)

type tok struct {
	typ   jtype
	esc   bool  // string holding backslash escapes
	start int32 // byte offset of the first byte (the quote, bracket or digit)
	end   int32 // byte offset just past the token
	next  int32 // index of the token after this one's subtree
}

// maxDepth stands in for Python's recursion limit, which FastAPI would turn into a 400.
const maxDepth = 512

type syntaxError struct {
	pos int // byte offset; converted to a character offset for the issue
	msg string
}

func (st *state) parse() *syntaxError {
	d := st.data
	st.toks = st.toks[:0]
	st.depth = 0
	i := skipWS(d, 0)
	end, err := st.value(i)
	if err != nil {
		return err
	}
	if j := skipWS(d, end); j != len(d) {
		return &syntaxError{j, "Extra data"}
	}
	return nil
}

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (st *state) leaf(t jtype, start, end int) (int, *syntaxError) {
	st.toks = append(st.toks, tok{typ: t, start: int32(start), end: int32(end), next: int32(len(st.toks) + 1)})
	return end, nil
}

func hasLit(d []byte, i int, lit string) bool {
	return len(d)-i >= len(lit) && string(d[i:i+len(lit)]) == lit
}

func (st *state) value(i int) (int, *syntaxError) {
	d := st.data
	if i >= len(d) {
		return 0, &syntaxError{i, "Expecting value"}
	}
	switch d[i] {
	case '"':
		return st.str(i)
	case '{':
		return st.object(i)
	case '[':
		return st.array(i)
	case 'n':
		if hasLit(d, i, "null") {
			return st.leaf(tNull, i, i+4)
		}
	case 't':
		if hasLit(d, i, "true") {
			return st.leaf(tTrue, i, i+4)
		}
	case 'f':
		if hasLit(d, i, "false") {
			return st.leaf(tFalse, i, i+5)
		}
	}
	// NaN, Infinity and -Infinity, which Python accepts, are refused: FastAPI could not
	// echo them back in a 422 (json.dumps(allow_nan=False) fails), and no field of the
	// contract accepts them.
	return st.number(i)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (st *state) number(start int) (int, *syntaxError) {
	d := st.data
	i := start
	if d[i] == '-' {
		i++
		if i >= len(d) {
			return 0, &syntaxError{start, "Expecting value"}
		}
	}
	switch {
	case d[i] >= '1' && d[i] <= '9':
		i++
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	case d[i] == '0':
		i++
	default:
		return 0, &syntaxError{start, "Expecting value"}
	}
	typ := tInt
	if i+1 < len(d) && d[i] == '.' && isDigit(d[i+1]) {
		typ = tFloat
		i += 2
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		j := i + 1
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		k := j
		for k < len(d) && isDigit(d[k]) {
			k++
		}
		// Without exponent digits Python backtracks and leaves "e" as trailing junk.
		if k > j {
			typ = tFloat
			i = k
		}
	}
	return st.leaf(typ, start, i)
}

func (st *state) str(start int) (int, *syntaxError) {
	d := st.data
	esc := false
	i := start + 1
	for {
		for i < len(d) && d[i] != '"' && d[i] != '\\' && d[i] >= 0x20 {
			i++
		}
		if i >= len(d) {
			return 0, &syntaxError{start, "Unterminated string starting at"}
		}
		switch c := d[i]; {
		case c == '"':
			return st.leafStr(start, i+1, esc)
		case c < 0x20:
			return 0, &syntaxError{i, "Invalid control character at"}
		}
		// Backslash.
		esc = true
		i++
		if i >= len(d) {
			return 0, &syntaxError{start, "Unterminated string starting at"}
		}
		switch d[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
			continue
		case 'u':
		default:
			return 0, &syntaxError{i - 1, "Invalid \\escape"}
		}
		u := i
		c, ok := hex4(d, u+1)
		// Python wants at least one character after the four digits (end >= len).
		if !st.hasChars(u+1, 5) {
			return 0, &syntaxError{u, "Invalid \\uXXXX escape"}
		}
		if !ok {
			return 0, &syntaxError{u, "Invalid \\uXXXX escape"}
		}
		i = u + 5
		if c >= 0xD800 && c <= 0xDBFF && st.hasChars(i, 7) && d[i] == '\\' && d[i+1] == 'u' {
			c2, ok := hex4(d, i+2)
			if !ok {
				return 0, &syntaxError{i + 1, "Invalid \\uXXXX escape"}
			}
			if c2 >= 0xDC00 && c2 <= 0xDFFF {
				i += 6
			}
		}
	}
}

// hasChars reports whether at least n characters (not bytes) follow offset i, the
// bound Python checks in character units.
func (st *state) hasChars(i, n int) bool {
	d := st.data
	for ; n > 0; n-- {
		if i >= len(d) {
			return false
		}
		_, size := utf8.DecodeRune(d[i:])
		i += size
	}
	return true
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (st *state) leafStr(start, end int, esc bool) (int, *syntaxError) {
	st.toks = append(st.toks, tok{typ: tString, esc: esc, start: int32(start), end: int32(end), next: int32(len(st.toks) + 1)})
	return end, nil
}

func (st *state) open(t jtype, i int) (int, *syntaxError) {
	if st.depth >= maxDepth {
		return 0, &syntaxError{i, "Maximum nesting depth exceeded"}
	}
	st.depth++
	st.toks = append(st.toks, tok{typ: t, start: int32(i)})
	return len(st.toks) - 1, nil
}

func (st *state) close(self, end int) (int, *syntaxError) {
	st.depth--
	t := &st.toks[self]
	t.end = int32(end)
	t.next = int32(len(st.toks))
	return end, nil
}

func (st *state) object(start int) (int, *syntaxError) {
	d := st.data
	self, err := st.open(tObject, start)
	if err != nil {
		return 0, err
	}
	i := skipWS(d, start+1)
	if i < len(d) && d[i] == '}' {
		return st.close(self, i+1)
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return 0, &syntaxError{i, "Expecting property name enclosed in double quotes"}
		}
		if i, err = st.str(i); err != nil {
			return 0, err
		}
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ':' {
			return 0, &syntaxError{i, "Expecting ':' delimiter"}
		}
		if i, err = st.value(skipWS(d, i+1)); err != nil {
			return 0, err
		}
		i = skipWS(d, i)
		if i < len(d) && d[i] == '}' {
			return st.close(self, i+1)
		}
		if i >= len(d) || d[i] != ',' {
			return 0, &syntaxError{i, "Expecting ',' delimiter"}
		}
		comma := i
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == '}' {
			return 0, &syntaxError{comma, "Illegal trailing comma before end of object"}
		}
	}
}

func (st *state) array(start int) (int, *syntaxError) {
	d := st.data
	self, err := st.open(tArray, start)
	if err != nil {
		return 0, err
	}
	i := skipWS(d, start+1)
	if i < len(d) && d[i] == ']' {
		return st.close(self, i+1)
	}
	for {
		if i, err = st.value(i); err != nil {
			return 0, err
		}
		i = skipWS(d, i)
		if i < len(d) && d[i] == ']' {
			return st.close(self, i+1)
		}
		if i >= len(d) || d[i] != ',' {
			return 0, &syntaxError{i, "Expecting ',' delimiter"}
		}
		comma := i
		i = skipWS(d, i+1)
		if i < len(d) && d[i] == ']' {
			return 0, &syntaxError{comma, "Illegal trailing comma before end of array"}
		}
	}
}

// unquote decodes a string token the way Python does; lone surrogates, which Go
// strings cannot hold, become U+FFFD as in encoding/json.
func unquote(raw []byte) []byte {
	s := raw[1 : len(raw)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(s, i)
			i += 4
			if r >= 0xD800 && r <= 0xDBFF && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if r2, ok := hex4(s, i+2); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
					r = (r-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
					i += 6
				}
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, e)
		}
	}
	return out
}
