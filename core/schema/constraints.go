package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Constraints beyond a value's type: enum/const (pydantic's Literal and Enum), numeric bounds
// and multipleOf (Field(ge=..., multiple_of=...)), and array lengths (Field(min_length=...) on a
// list). Each reports exactly what pydantic-core reports, in its order, and only the first
// failing numeric constraint, as pydantic does.

var (
	errLiteral        = &errKind{"literal_error", ""}
	errEnum           = &errKind{"enum", ""}
	errMultipleOf     = &errKind{"multiple_of", ""}
	errLessEqual      = &errKind{"less_than_equal", ""}
	errLess           = &errKind{"less_than", ""}
	errGreaterEqual   = &errKind{"greater_than_equal", ""}
	errGreater        = &errKind{"greater_than", ""}
	errListTooShort   = &errKind{"too_short", ""}
	errListTooLong    = &errKind{"too_long", ""}
	boundKeywordOrder = []struct {
		keyword, ctxKey string
		e               *errKind
	}{
		// pydantic-core's constrained int and float validators check in this order.
		{"multipleOf", "multiple_of", errMultipleOf},
		{"maximum", "le", errLessEqual},
		{"exclusiveMaximum", "lt", errLess},
		{"minimum", "ge", errGreaterEqual},
		{"exclusiveMinimum", "gt", errGreater},
	}
)

// constraintMsg renders the messages whose text depends on ctx; ok is false for other kinds.
func constraintMsg(e *errKind, ctx map[string]any) (string, bool) {
	switch e {
	case errLiteral, errEnum:
		return "Input should be " + ctx["expected"].(string), true
	case errMultipleOf:
		return "Input should be a multiple of " + boundText(ctx["multiple_of"]), true
	case errLessEqual:
		return "Input should be less than or equal to " + boundText(ctx["le"]), true
	case errLess:
		return "Input should be less than " + boundText(ctx["lt"]), true
	case errGreaterEqual:
		return "Input should be greater than or equal to " + boundText(ctx["ge"]), true
	case errGreater:
		return "Input should be greater than " + boundText(ctx["gt"]), true
	case errListTooShort:
		return itemsMsg("at least", ctx["min_length"].(int), ctx["actual_length"].(int)), true
	case errListTooLong:
		return itemsMsg("at most", ctx["max_length"].(int), ctx["actual_length"].(int)), true
	case errUUIDParsing:
		return uuidMsg(ctx), true
	}
	return "", false
}

// boundText is a bound as pydantic's message prints it: Rust's Display, so a float bound has no
// exponent and no ".0" (ctx, by contrast, holds Python's float, "0.0").
func boundText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func itemsMsg(bound string, n, actual int) string {
	s := "List should have " + bound + " " + strconv.Itoa(n) + " item"
	if n != 1 {
		s += "s"
	}
	return s + " after validation, not " + strconv.Itoa(actual)
}

// bound is one numeric constraint. For an integer schema the bound is an integer (pydantic
// refuses to build anything else) and compared exactly; for a number it is a float64.
type bound struct {
	e      *errKind
	ctxKey string
	i      int64
	f      float64
}

func (b *bound) ctx(integer bool) map[string]any {
	if integer {
		return map[string]any{b.ctxKey: b.i}
	}
	return map[string]any{b.ctxKey: json.Number(pyFloat(b.f))}
}

// failsInt reports whether v breaks the bound.
func (b *bound) failsInt(v int64) bool {
	switch b.e {
	case errMultipleOf:
		return v%b.i != 0
	case errLessEqual:
		return v > b.i
	case errLess:
		return v >= b.i
	case errGreaterEqual:
		return v < b.i
	}
	return v <= b.i
}

func (b *bound) failsFloat(f float64) bool {
	switch b.e {
	case errLessEqual:
		return !(f <= b.f)
	case errLess:
		return !(f < b.f)
	case errGreaterEqual:
		return !(f >= b.f)
	}
	return !(f > b.f)
}

// checkIntBounds returns the first bound v breaks, with its ctx.
func checkIntBounds(n *node, v int64) (*errKind, map[string]any) {
	for i := range n.bounds {
		if b := &n.bounds[i]; b.failsInt(v) {
			return b.e, b.ctx(true)
		}
	}
	return nil, nil
}

func checkFloatBounds(n *node, f float64) (*errKind, map[string]any) {
	for i := range n.bounds {
		if b := &n.bounds[i]; b.failsFloat(f) {
			return b.e, b.ctx(false)
		}
	}
	return nil, nil
}

func (c *compiler) fillBounds(n *node, v *jv, path string, integer bool) error {
	for _, k := range boundKeywordOrder {
		x := v.get(k.keyword)
		if x == nil {
			continue
		}
		if x.kind != 'n' {
			return fmt.Errorf("schema %s: %s must be a number", path, k.keyword)
		}
		b := bound{e: k.e, ctxKey: k.ctxKey}
		if integer {
			i, err := strconv.ParseInt(x.str, 10, 64)
			if err != nil {
				return fmt.Errorf("schema %s: %s of an integer must be an integer within int64 (pydantic refuses %s)", path, k.keyword, x.str)
			}
			if k.e == errMultipleOf && i <= 0 {
				return fmt.Errorf("schema %s: multipleOf must be positive", path)
			}
			b.i = i
		} else {
			if k.e == errMultipleOf {
				// pydantic's float remainder test is not reproduced; integers are exact.
				return fmt.Errorf("schema %s: keyword \"multipleOf\" is not supported for type number (only for integer)", path)
			}
			f, err := strconv.ParseFloat(x.str, 64)
			if err != nil || math.IsInf(f, 0) {
				return fmt.Errorf("schema %s: %s must be a finite number", path, k.keyword)
			}
			b.f = f
		}
		n.bounds = append(n.bounds, b)
	}
	return nil
}

// enumSpec is a Literal (inline enum or const) or an Enum class (an enum schema of its own under
// #/components/schemas, which is how pydantic publishes one). They differ in pydantic: an Enum
// answers "enum" and, when its values are integers, accepts integer strings ("1", " 1 ", "1.0");
// a Literal answers "literal_error" and takes a string only for a string value. Enum classes are
// assumed to be str or int subclasses (StrEnum, IntEnum), as request models declare them.
type enumSpec struct {
	class    string // the Enum's name; "" for a Literal
	strs     []string
	ints     []int64
	expected string // "'a', 'b' or 'c'"
	tag      string // the union tag: literal['a','b'], str-enum[Color], int-enum[Level]
}

func (e *enumSpec) errKind() *errKind {
	if e.class != "" {
		return errEnum
	}
	return errLiteral
}

func (e *enumSpec) hasStr(s string) bool {
	for _, x := range e.strs {
		if x == s {
			return true
		}
	}
	return false
}

func (e *enumSpec) hasInt(v int64) bool {
	for _, x := range e.ints {
		if x == v {
			return true
		}
	}
	return false
}

// matchString reports whether a string input is accepted, and the integer it stands for when an
// int Enum took it in lax mode (asInt).
func (e *enumSpec) matchString(s string) (ok, asInt bool, v int64, size bool) {
	if e.hasStr(s) {
		return true, false, 0, false
	}
	if e.class == "" || len(e.ints) == 0 || strings.Contains(s, "_") {
		// pydantic's enum lookup parses without underscores; a Literal never converts.
		return false, false, 0, false
	}
	v, k := strAsInt(s)
	if k == errIntParsingSize {
		return false, false, 0, true
	}
	if k != nil || !e.hasInt(v) {
		return false, false, 0, false
	}
	return true, true, v, false
}

// enumInt finds the integer a non-string token stands for in an integer enum: an integer, a
// boolean (Python's True == 1) or a float with no fractional part. size reports an integer
// beyond int64, which pydantic answers with int_parsing_size for a Literal and an Enum alike.
func (st *state) enumInt(e *enumSpec, t *tok) (v int64, ok, size bool) {
	switch t.typ {
	case tInt:
		v, fits := parseInt64(st.raw(t))
		if !fits {
			return 0, false, true
		}
		return v, e.hasInt(v), false
	case tTrue:
		return 1, e.hasInt(1), false
	case tFalse:
		return 0, e.hasInt(0), false
	case tFloat:
		f := parseFloatBytes(st.raw(t))
		if f != math.Trunc(f) || f <= math.MinInt64 || f >= math.MaxInt64 {
			return 0, false, false
		}
		return int64(f), e.hasInt(int64(f)), false
	}
	return 0, false, false
}

// validateEnum checks the token against the enum; a match that converted (an Enum's "1", a
// Literal's True or 1.0) marks the body coerced so that writeNorm hands the handler the value.
func (st *state) validateEnum(n *node, ti int32) {
	e := n.enum
	t := &st.toks[ti]
	if t.typ == tString {
		ok, asInt, _, size := e.matchString(string(st.content(t)))
		switch {
		case size:
			st.fail(ti, errIntParsingSize, nil)
		case !ok:
			st.fail(ti, e.errKind(), map[string]any{"expected": e.expected})
		case asInt:
			st.coerced, st.inexact = true, true
		}
		return
	}
	_, ok, size := st.enumInt(e, t)
	switch {
	case size:
		st.fail(ti, errIntParsingSize, nil)
	case !ok:
		st.fail(ti, e.errKind(), map[string]any{"expected": e.expected})
	case t.typ != tInt:
		st.coerced, st.inexact = true, true
	}
}

// writeEnum writes a validated enum value: strings as sent, integers in canonical form.
func (st *state) writeEnum(buf []byte, n *node, ti int32) []byte {
	t := &st.toks[ti]
	if t.typ == tString {
		if _, asInt, v, _ := n.enum.matchString(string(st.content(t))); asInt {
			return appendInt(buf, v)
		}
		return append(buf, st.raw(t)...)
	}
	v, _, _ := st.enumInt(n.enum, t)
	return appendInt(buf, v)
}

// fillEnum compiles enum or const. class is the Enum's name when the schema is a component of
// its own, "" for an inline Literal.
func (c *compiler) fillEnum(n *node, v *jv, path, class string) error {
	for _, k := range v.keys {
		switch k {
		case "enum", "const", "type":
		default:
			if !isAnnotation(k) {
				return fmt.Errorf("schema %s: keyword %q beside enum is not supported", path, k)
			}
		}
	}
	var vals []*jv
	switch en, cn := v.get("enum"), v.get("const"); {
	case en != nil && cn != nil:
		return fmt.Errorf("schema %s: enum beside const is not supported", path)
	case cn != nil:
		vals = []*jv{cn}
	case en.kind != 'a' || len(en.vals) == 0:
		return fmt.Errorf("schema %s: enum must be a non-empty array", path)
	default:
		vals = en.vals
	}
	e := &enumSpec{class: class}
	reprs := make([]string, 0, len(vals))
	for _, x := range vals {
		switch x.kind {
		case 's':
			r, ok := pyStrRepr(x.str)
			if !ok {
				return fmt.Errorf("schema %s: enum value %q: only printable ASCII strings are supported", path, x.str)
			}
			e.strs = append(e.strs, x.str)
			reprs = append(reprs, r)
		case 'n':
			i, err := strconv.ParseInt(x.str, 10, 64)
			if err != nil {
				return fmt.Errorf("schema %s: enum value %s: only strings and integers within int64 are supported", path, x.str)
			}
			e.ints = append(e.ints, i)
			reprs = append(reprs, strconv.FormatInt(i, 10))
		default:
			return fmt.Errorf("schema %s: enum values must be strings or integers (null, booleans, objects are not supported)", path)
		}
	}
	if err := checkEnumType(v, e, path); err != nil {
		return err
	}
	e.expected = joinExpected(reprs)
	switch {
	case class == "":
		e.tag = "literal[" + strings.Join(reprs, ",") + "]"
	case len(e.strs) > 0:
		e.tag = "str-enum[" + class + "]"
	default:
		e.tag = "int-enum[" + class + "]"
	}
	n.kind, n.enum = kEnum, e
	return nil
}

func checkEnumType(v *jv, e *enumSpec, path string) error {
	t := v.get("type")
	mixed := len(e.strs) > 0 && len(e.ints) > 0
	switch {
	case t == nil && e.class != "":
		return fmt.Errorf("schema %s: an Enum schema needs a type (string or integer)", path)
	case t == nil:
		return nil // a Literal mixing strings and integers: pydantic publishes no type
	case t.kind != 's':
		return fmt.Errorf("schema %s: type must be a single string", path)
	case mixed:
		return fmt.Errorf("schema %s: an enum mixing strings and integers cannot have type %q", path, t.str)
	case t.str == "string" && len(e.strs) > 0, t.str == "integer" && len(e.ints) > 0:
		return nil
	}
	return fmt.Errorf("schema %s: enum values do not match type %q", path, t.str)
}

// joinExpected is pydantic's list of expected values: "a", "a or b", "a, b or c".
func joinExpected(reprs []string) string {
	if len(reprs) == 1 {
		return reprs[0]
	}
	return strings.Join(reprs[:len(reprs)-1], ", ") + " or " + reprs[len(reprs)-1]
}

// pyStrRepr is Python's repr of a printable ASCII string: single quotes unless the text holds a
// single quote and no double quote. ok is false for text whose repr would need escapes beyond
// the backslash and quote, which is refused at compile time rather than guessed.
func pyStrRepr(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "", false
		}
	}
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	body := strings.ReplaceAll(s, `\`, `\\`)
	if q == "'" {
		body = strings.ReplaceAll(body, "'", `\'`)
	}
	return q + body + q, true
}

// checkItems applies minItems/maxItems the way pydantic's list validator does: too many items
// are refused before any is validated; too few only once every item is valid.
func (st *state) checkItemsTooLong(n *node, ti int32, count int) bool {
	if n.maxItems >= 0 && count > n.maxItems {
		st.fail(ti, errListTooLong, map[string]any{"field_type": "List", "max_length": n.maxItems, "actual_length": count})
		return true
	}
	return false
}

func (st *state) checkItemsTooShort(n *node, ti int32, count int) {
	if n.minItems >= 0 && count < n.minItems {
		st.fail(ti, errListTooShort, map[string]any{"field_type": "List", "min_length": n.minItems, "actual_length": count})
	}
}
