package schema

import (
	"strconv"
	"unicode/utf8"
)

// format "uuid" is pydantic's UUID, which parses with Rust's uuid crate: 32 hex digits, or the
// hyphenated form bare, in braces or after "urn:uuid:", nothing else (no spaces). Its error texts
// and positions are the crate's and are reproduced here; a valid value reaches the handler in
// canonical form (lower case, hyphenated), as pydantic hands the handler a UUID.

var (
	errUUIDType    = &errKind{"uuid_type", "UUID input should be a string, bytes or UUID object"}
	errUUIDParsing = &errKind{"uuid_parsing", ""}
)

func uuidMsg(ctx map[string]any) string {
	return "Input should be a valid UUID, " + ctx["error"].(string)
}

// parseUUID returns the 16 bytes of s or the uuid crate's description of what is wrong.
func parseUUID(s string) (u [16]byte, problem string) {
	var body string
	switch {
	case len(s) == 32:
		if decodeHex(s, u[:]) {
			return u, ""
		}
		return u, uuidProblem(s)
	case len(s) == 36:
		body = s
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		body = s[1:37]
	case len(s) == 45 && s[:9] == "urn:uuid:":
		body = s[9:]
	default:
		return u, uuidProblem(s)
	}
	if body[8] != '-' || body[13] != '-' || body[18] != '-' || body[23] != '-' {
		return u, uuidProblem(s)
	}
	hex := body[0:8] + body[9:13] + body[14:18] + body[19:23] + body[24:36]
	if !decodeHex(hex, u[:]) {
		return u, uuidProblem(s)
	}
	return u, ""
}

func decodeHex(s string, dst []byte) bool {
	for i := 0; i < len(dst); i++ {
		hi, ok1 := hexVal(s[2*i])
		lo, ok2 := hexVal(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// uuidProblem is the uuid crate's InvalidUuid::into_err for an input that failed to parse.
func uuidProblem(input string) string {
	s, offset, simple := input, 0, true
	switch {
	case len(input) >= 2 && input[0] == '{' && input[len(input)-1] == '}':
		s, offset, simple = input[1:len(input)-1], 1, false
	case len(input) >= 9 && input[:9] == "urn:uuid:":
		s, offset, simple = input[9:], 9, false
	}
	hyphens := 0
	var bounds [4]int
	for i, r := range s {
		switch {
		case r >= utf8.RuneSelf:
			return "invalid character: found `" + string(r) + "` at " + strconv.Itoa(i+offset+1)
		case r == '-':
			if hyphens < 4 {
				bounds[hyphens] = i
			}
			hyphens++
		default:
			if _, ok := hexVal(byte(r)); !ok {
				return "invalid character: found `" + string(r) + "` at " + strconv.Itoa(i+offset+1)
			}
		}
	}
	if hyphens == 0 && simple {
		return "invalid length: expected length 32 for simple format, found " + strconv.Itoa(len(input))
	}
	if hyphens != 4 {
		return "invalid group count: expected 5, found " + strconv.Itoa(hyphens+1)
	}
	starts := [5]int{0, 9, 14, 19, 24}
	want := [5]int{8, 4, 4, 4, 12}
	for i := 0; i < 4; i++ {
		if bounds[i] != starts[i+1]-1 {
			return groupLength(i, want[i], bounds[i]-starts[i])
		}
	}
	// The crate measures the last group against the whole input, prefix included.
	return groupLength(4, want[4], len(input)-starts[4])
}

func groupLength(group, want, got int) string {
	return "invalid group length in group " + strconv.Itoa(group) + ": expected " + strconv.Itoa(want) + ", found " + strconv.Itoa(got)
}

func appendUUID(buf []byte, u [16]byte) []byte {
	const digits = "0123456789abcdef"
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, digits[b>>4], digits[b&15])
	}
	return buf
}

// checkUUID validates a string input; canonical reports whether it is already in the form the
// handler receives.
func checkUUID(s string) (u [16]byte, canonical bool, e *errKind, ctx map[string]any) {
	u, problem := parseUUID(s)
	if problem != "" {
		return u, false, errUUIDParsing, map[string]any{"error": problem}
	}
	return u, string(appendUUID(make([]byte, 0, 36), u)) == s, nil, nil
}

func (st *state) validateUUID(ti int32) {
	t := &st.toks[ti]
	if t.typ != tString {
		st.fail(ti, errUUIDType, nil)
		return
	}
	// A string is a UUID only in pydantic's lax mode: a union prefers an exact match.
	st.inexact = true
	_, canonical, e, ctx := checkUUID(string(st.content(t)))
	if e != nil {
		st.fail(ti, e, ctx)
		return
	}
	if !canonical {
		st.coerced = true
	}
}

func (st *state) writeUUID(buf []byte, ti int32) []byte {
	u, _ := parseUUID(string(st.content(&st.toks[ti])))
	buf = append(buf, '"')
	buf = appendUUID(buf, u)
	return append(buf, '"')
}
