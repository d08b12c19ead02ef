package schema

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// errKind is one pydantic error type with its message.
type errKind struct {
	typ  string
	text string
}

var (
	errMissing               = &errKind{"missing", "Field required"}
	errExtraForbidden        = &errKind{"extra_forbidden", "Extra inputs are not permitted"}
	errModelAttributesType   = &errKind{"model_attributes_type", "Input should be a valid dictionary or object to extract fields from"}
	errDictType              = &errKind{"dict_type", "Input should be a valid dictionary"}
	errListType              = &errKind{"list_type", "Input should be a valid list"}
	errStringType            = &errKind{"string_type", "Input should be a valid string"}
	errStringTooShort        = &errKind{"string_too_short", ""}
	errStringTooLong         = &errKind{"string_too_long", ""}
	errStringPatternMismatch = &errKind{"string_pattern_mismatch", ""}
	errIntType               = &errKind{"int_type", "Input should be a valid integer"}
	errIntParsing            = &errKind{"int_parsing", "Input should be a valid integer, unable to parse string as an integer"}
	errIntParsingSize        = &errKind{"int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size"}
	errIntFromFloat          = &errKind{"int_from_float", "Input should be a valid integer, got a number with a fractional part"}
	errFiniteNumber          = &errKind{"finite_number", "Input should be a finite number"}
	errFloatType             = &errKind{"float_type", "Input should be a valid number"}
	errFloatParsing          = &errKind{"float_parsing", "Input should be a valid number, unable to parse string as a number"}
	errBoolType              = &errKind{"bool_type", "Input should be a valid boolean"}
	errBoolParsing           = &errKind{"bool_parsing", "Input should be a valid boolean, unable to interpret input"}
	errInternal              = &errKind{"value_error", "Value error, unsupported schema"}

	// errNUL refuses text PostgreSQL cannot store (its text types reject U+0000, failing the
	// whole statement) and SQLite would keep, so that no input behaves differently per backend.
	// pydantic has no such check: this is the issue a pydantic BeforeValidator raising
	// ValueError("String should not contain NUL characters") produces, ctx included (FastAPI
	// encodes the exception object as {}).
	errNUL = &errKind{"value_error", "Value error, String should not contain NUL characters"}
)

// nulCtx is errNUL's ctx, built per issue since issues leave the package.
func nulCtx() map[string]any { return map[string]any{"error": map[string]any{}} }

func (e *errKind) msg(ctx map[string]any) string {
	if m, ok := constraintMsg(e, ctx); ok {
		return m
	}
	switch e {
	case errStringTooShort:
		return lengthMsg("at least", ctx["min_length"].(int))
	case errStringTooLong:
		return lengthMsg("at most", ctx["max_length"].(int))
	case errStringPatternMismatch:
		return "String should match pattern '" + ctx["pattern"].(string) + "'"
	}
	return e.text
}

func lengthMsg(bound string, n int) string {
	s := "String should have " + bound + " " + strconv.Itoa(n) + " character"
	if n != 1 {
		s += "s"
	}
	return s
}

// parseInt64 parses a JSON integer token (optional '-', ASCII digits) without
// allocating; ok is false when it does not fit in int64.
func parseInt64(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func parseFloatBytes(b []byte) float64 {
	// Tokens are already valid JSON numbers; a range error still yields ±Inf or 0,
	// which is what Python's float() returns for them.
	f, _ := strconv.ParseFloat(string(b), 64)
	return f
}

// floatAsInt mirrors pydantic-core's float_as_int.
func floatAsInt(f float64) (int64, *errKind) {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return 0, errFiniteNumber
	case f != math.Trunc(f):
		return 0, errIntFromFloat
	case f <= math.MinInt64 || f >= math.MaxInt64:
		return 0, errIntParsingSize
	}
	return int64(f), nil
}

func (st *state) toInt(t *tok) (int64, *errKind) {
	switch t.typ {
	case tInt:
		if v, ok := parseInt64(st.raw(t)); ok {
			return v, nil
		}
		// pydantic keeps arbitrary-precision ints; this service stores int64.
		return 0, errIntParsingSize
	case tFloat:
		st.coerced, st.inexact = true, true
		return floatAsInt(parseFloatBytes(st.raw(t)))
	case tTrue:
		st.coerced, st.inexact = true, true
		return 1, nil
	case tFalse:
		st.coerced, st.inexact = true, true
		return 0, nil
	case tString:
		st.coerced, st.inexact = true, true
		return strAsInt(string(st.content(t)))
	}
	return 0, errIntType
}

func (st *state) toFloat(t *tok) (float64, *errKind) {
	var f float64
	switch t.typ {
	case tInt:
		st.inexact = true
		f = parseFloatBytes(st.raw(t))
	case tFloat:
		f = parseFloatBytes(st.raw(t))
	case tTrue:
		st.coerced, st.inexact = true, true
		return 1, nil
	case tFalse:
		st.coerced, st.inexact = true, true
		return 0, nil
	case tString:
		st.coerced, st.inexact = true, true
		return strAsFloat(string(st.content(t)))
	default:
		return 0, errFloatType
	}
	if math.IsInf(f, 0) {
		return 0, errFiniteNumber
	}
	return f, nil
}

func (st *state) toBool(t *tok) (bool, *errKind) {
	switch t.typ {
	case tTrue:
		return true, nil
	case tFalse:
		return false, nil
	case tString:
		st.coerced, st.inexact = true, true
		return strAsBool(string(st.content(t)))
	case tInt:
		st.coerced, st.inexact = true, true
		v, ok := parseInt64(st.raw(t))
		if !ok {
			return false, errBoolType
		}
		return intAsBool(v)
	case tFloat:
		st.coerced, st.inexact = true, true
		// pydantic only tries ints that float_as_int accepts; other floats are bool_type.
		v, e := floatAsInt(parseFloatBytes(st.raw(t)))
		if e != nil {
			return false, errBoolType
		}
		return intAsBool(v)
	}
	return false, errBoolType
}

func intAsBool(v int64) (bool, *errKind) {
	switch v {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, errBoolParsing
}

// strAsInt follows pydantic-core 2.x: surrounding Unicode whitespace is ignored, an
// optional sign, ASCII digits with single underscores between them, and an optional
// fraction made only of zeros ("7.00").
func strAsInt(s string) (int64, *errKind) {
	s = strings.TrimSpace(s)
	if len(s) > 4300 {
		return 0, errIntParsingSize
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var u uint64
	overflow := false
	digits := 0
	for i < len(s) {
		c := s[i]
		if c == '_' {
			if digits == 0 || i+1 >= len(s) || !isDigit(s[i+1]) {
				return 0, errIntParsing
			}
			i++
			continue
		}
		if !isDigit(c) {
			break
		}
		if u > (math.MaxUint64-9)/10 {
			overflow = true
		} else {
			u = u*10 + uint64(c-'0')
		}
		digits++
		i++
	}
	if digits == 0 {
		return 0, errIntParsing
	}
	if i < len(s) {
		if s[i] != '.' || i+1 >= len(s) {
			return 0, errIntParsing
		}
		for _, c := range []byte(s[i+1:]) {
			if c != '0' {
				return 0, errIntParsing
			}
		}
	}
	switch {
	case overflow:
		return 0, errIntParsingSize
	case neg && u <= 1<<63:
		return -int64(u), nil
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	}
	return 0, errIntParsingSize
}

// strAsFloat accepts what Rust's f64 parser accepts (pydantic uses it), plus pydantic's
// underscore stripping. Infinities and NaN are refused as finite_number because dst
// fields are filled through encoding/json, which cannot carry them.
func strAsFloat(s string) (float64, *errKind) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return 0, errFloatParsing
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	if s == "" || strings.ContainsAny(s, "xXpP_") {
		return 0, errFloatParsing
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, errFloatParsing
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errFiniteNumber
	}
	return f, nil
}

func strAsBool(s string) (bool, *errKind) {
	switch {
	case s == "0" || strings.EqualFold(s, "f") || strings.EqualFold(s, "n") || strings.EqualFold(s, "no") ||
		strings.EqualFold(s, "off") || strings.EqualFold(s, "false"):
		return false, nil
	case s == "1" || strings.EqualFold(s, "t") || strings.EqualFold(s, "y") || strings.EqualFold(s, "on") ||
		strings.EqualFold(s, "yes") || strings.EqualFold(s, "true"):
		return true, nil
	}
	return false, errBoolParsing
}

func appendInt(buf []byte, v int64) []byte { return strconv.AppendInt(buf, v, 10) }

func appendFloat(buf []byte, f float64) []byte { return strconv.AppendFloat(buf, f, 'g', -1, 64) }

// input is the value echoed in an issue, shaped like FastAPI's jsonable_encoder output.
func (st *state) input(ti int32) any {
	t := &st.toks[ti]
	switch t.typ {
	case tNull:
		return nil
	case tTrue:
		return true
	case tFalse:
		return false
	case tInt:
		if v, ok := parseInt64(st.raw(t)); ok {
			return v
		}
		return json.Number(st.raw(t))
	case tFloat:
		return json.Number(pyFloatText(st.raw(t)))
	case tString:
		return string(st.content(t))
	}
	return json.RawMessage(st.render(nil, ti))
}

// render writes a value compactly as Python's json.dumps would after json.loads:
// duplicate keys collapsed (first position, last value), numbers in Python's repr.
func (st *state) render(buf []byte, ti int32) []byte {
	t := &st.toks[ti]
	switch t.typ {
	case tInt:
		if v, ok := parseInt64(st.raw(t)); ok {
			return strconv.AppendInt(buf, v, 10)
		}
		return append(buf, st.raw(t)...)
	case tFloat:
		return append(buf, pyFloatText(st.raw(t))...)
	case tArray:
		buf = append(buf, '[')
		for c := ti + 1; c < t.next; c = st.toks[c].next {
			if c != ti+1 {
				buf = append(buf, ',')
			}
			buf = st.render(buf, c)
		}
		return append(buf, ']')
	case tObject:
		keys, vals := st.members(ti)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			q, _ := json.Marshal(k)
			buf = append(buf, q...)
			buf = append(buf, ':')
			buf = st.render(buf, vals[i])
		}
		return append(buf, '}')
	}
	// null, booleans and strings are already in their final JSON form.
	return append(buf, st.raw(t)...)
}

// pyFloatText formats a JSON float literal as Python's repr(float) does (1e5 ->
// 100000.0, 1e16 -> 1e+16). Overflowing literals, which Python turns into inf and then
// fails to serialise, are echoed as written.
func pyFloatText(raw []byte) string {
	f := parseFloatBytes(raw)
	if math.IsInf(f, 0) {
		return string(raw)
	}
	return pyFloat(f)
}

func pyFloat(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	// Python switches to exponent notation when the decimal point would sit more
	// than 16 digits right or 4 zeros left of the first digit.
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}
