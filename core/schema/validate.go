package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// state is the per-call scratch space, pooled so that a valid body allocates nothing
// while it is parsed and validated.
type state struct {
	data  []byte
	toks  []tok
	depth int

	loc0    string
	path    []pathElem
	scratch []int32 // stack of "last value index per declared property" frames
	issues  []Issue
	nerr    int // issues found, including those suppressed while dry
	dry     int // >0 while trying union choices: count issues without building them

	coerced bool // the value differs from the JSON text: decode from writeNorm output
	inexact bool // a conversion happened that pydantic's smart union ranks below exact
}

type pathElem struct {
	key   string
	idx   int
	isIdx bool
}

func (st *state) reset() {
	st.data = nil
	st.toks = st.toks[:0]
	st.path = st.path[:0]
	st.scratch = st.scratch[:0]
	st.issues = nil
	st.nerr, st.dry, st.depth = 0, 0, 0
	st.coerced, st.inexact = false, false
	st.loc0 = ""
}

func (st *state) pushKey(k string) { st.path = append(st.path, pathElem{key: k}) }
func (st *state) pushIdx(i int)    { st.path = append(st.path, pathElem{idx: i, isIdx: true}) }
func (st *state) pop()             { st.path = st.path[:len(st.path)-1] }

func (st *state) fail(ti int32, e *errKind, ctx map[string]any) {
	st.nerr++
	if st.dry > 0 {
		return
	}
	st.issues = append(st.issues, Issue{Loc: st.loc(), Msg: e.msg(ctx), Type: e.typ, Input: st.input(ti), Ctx: ctx})
}

func (st *state) loc() []any {
	loc := make([]any, 0, 1+len(st.path))
	loc = append(loc, st.loc0)
	for _, p := range st.path {
		if p.isIdx {
			loc = append(loc, p.idx)
		} else {
			loc = append(loc, p.key)
		}
	}
	return loc
}

// content returns a string token's decoded bytes, aliasing the input when it has no
// escapes.
func (st *state) content(t *tok) []byte {
	raw := st.data[t.start:t.end]
	if !t.esc {
		return raw[1 : len(raw)-1]
	}
	return unquote(raw)
}

func (st *state) raw(t *tok) []byte { return st.data[t.start:t.end] }

func (st *state) validate(n *node, ti int32) {
	t := &st.toks[ti]
	switch n.kind {
	case kAny:
		st.refuseNUL(ti)
	case kNullable:
		if t.typ != tNull {
			st.validate(n.inner, ti)
		}
	case kString:
		if t.typ != tString {
			st.fail(ti, errStringType, nil)
			return
		}
		// The parser refuses raw control characters, so only an escape can make a NUL: the
		// unescaped strings of the hot path (tokens) are not scanned.
		if !t.esc && !n.hasStrConstraints() {
			return
		}
		s := st.content(t)
		if t.esc && bytes.IndexByte(s, 0) >= 0 {
			// Before the field's own constraints, as a BeforeValidator would, so that every
			// string holding a NUL gets the same issue whatever else is wrong with it.
			st.fail(ti, errNUL, nulCtx())
			return
		}
		if n.hasStrConstraints() {
			if e, ctx := checkStringBytes(n, s); e != nil {
				st.fail(ti, e, ctx)
			}
		}
	case kInteger:
		v, e := st.toInt(t)
		if e != nil {
			st.fail(ti, e, nil)
			return
		}
		if len(n.bounds) > 0 {
			if e, ctx := checkIntBounds(n, v); e != nil {
				st.fail(ti, e, ctx)
			}
		}
	case kNumber:
		f, e := st.toFloat(t)
		if e != nil {
			st.fail(ti, e, nil)
			return
		}
		if len(n.bounds) > 0 {
			if e, ctx := checkFloatBounds(n, f); e != nil {
				st.fail(ti, e, ctx)
			}
		}
	case kEnum:
		st.validateEnum(n, ti)
	case kUUID:
		st.validateUUID(ti)
	case kBoolean:
		if _, e := st.toBool(t); e != nil {
			st.fail(ti, e, nil)
		}
	case kArray:
		if t.typ != tArray {
			st.fail(ti, errListType, nil)
			return
		}
		count := -1
		if n.maxItems >= 0 || n.minItems >= 0 {
			count = st.countItems(ti)
			if st.checkItemsTooLong(n, ti, count) {
				return
			}
		}
		before := st.nerr
		end := t.next
		for i, c := 0, ti+1; c < end; i, c = i+1, st.toks[c].next {
			st.pushIdx(i)
			st.validate(n.items, c)
			st.pop()
		}
		if count >= 0 && st.nerr == before {
			st.checkItemsTooShort(n, ti, count)
		}
	case kDict:
		if t.typ != tObject {
			st.fail(ti, errDictType, nil)
			return
		}
		st.refuseNUL(ti)
	case kModel:
		if t.typ != tObject {
			st.fail(ti, errModelAttributesType, nil)
			return
		}
		st.validateModel(n, ti)
	case kUnion:
		if len(n.choices) == 1 {
			st.validate(n.choices[0], ti)
			return
		}
		if best, _ := st.pick(n, ti); best >= 0 {
			return
		}
		for _, c := range n.choices {
			st.pushKey(c.tag(0))
			st.validate(c, ti)
			st.pop()
		}
	}
}

// pick runs pydantic's smart-union selection: the first choice that validates without
// any conversion wins, else the first that validates at all. It returns -1 if none does.
func (st *state) pick(n *node, ti int32) (best int, coerced bool) {
	saveCo, saveIn := st.coerced, st.inexact
	best = -1
	inexact := false
	for i, c := range n.choices {
		before := st.nerr
		st.coerced, st.inexact = false, false
		st.dry++
		st.validate(c, ti)
		st.dry--
		ok := st.nerr == before
		st.nerr = before
		if !ok {
			continue
		}
		if !st.coerced && !st.inexact {
			best, coerced, inexact = i, false, false
			break
		}
		if best < 0 {
			best, coerced, inexact = i, st.coerced, true
		}
	}
	st.coerced = saveCo || coerced
	st.inexact = saveIn || inexact
	return best, coerced
}

func (st *state) validateModel(n *node, ti int32) {
	found, extras, dup := st.matchMembers(n, ti)
	if extras || dup {
		// encoding/json would match unknown keys case-insensitively and would trip on
		// an earlier duplicate's value, so such bodies are decoded from writeNorm output.
		st.coerced = true
	}
	var whole any
	for i := range n.props {
		p := &n.props[i]
		v := found[i]
		if v < 0 {
			if p.required {
				st.nerr++
				if st.dry == 0 {
					if whole == nil {
						whole = st.input(ti)
					}
					st.pushKey(p.name)
					st.issues = append(st.issues, Issue{Loc: st.loc(), Msg: errMissing.text, Type: errMissing.typ, Input: whole})
					st.pop()
				}
			}
			continue
		}
		st.pushKey(p.name)
		st.validate(p.node, v)
		st.pop()
	}
	st.scratch = st.scratch[:len(st.scratch)-len(n.props)]
	if extras && n.extra == extraForbid {
		st.forbidExtras(n, ti)
	}
	if extras && n.extra == extraAllow {
		st.allowExtras(n, ti)
	}
}

// matchMembers maps each declared property to the value of its last occurrence (Python
// dicts keep the last duplicate). The returned slice is a frame on st.scratch that the
// caller pops.
func (st *state) matchMembers(n *node, ti int32) (found []int32, extras, dup bool) {
	base := len(st.scratch)
	for range n.props {
		st.scratch = append(st.scratch, -1)
	}
	found = st.scratch[base:]
	t := &st.toks[ti]
	for k := ti + 1; k < t.next; k = st.toks[k+1].next {
		kt := &st.toks[k]
		var idx int
		if kt.esc {
			idx = n.lookup(unquote(st.raw(kt)))
		} else {
			raw := st.raw(kt)
			idx = n.lookup(raw[1 : len(raw)-1])
		}
		if idx < 0 {
			extras = true
			continue
		}
		if found[idx] >= 0 {
			dup = true
		}
		found[idx] = k + 1
	}
	return found, extras, dup
}

func (st *state) countItems(ti int32) int {
	n := 0
	for c := ti + 1; c < st.toks[ti].next; c = st.toks[c].next {
		n++
	}
	return n
}

func (st *state) keyString(k int32) string {
	return string(st.content(&st.toks[k]))
}

// members lists an object's distinct keys in first-occurrence order, each with its last
// value, which is how a Python dict built by json.loads iterates.
func (st *state) members(ti int32) (keys []string, vals []int32) {
	t := &st.toks[ti]
	pos := map[string]int{}
	for k := ti + 1; k < t.next; k = st.toks[k+1].next {
		key := st.keyString(k)
		if i, ok := pos[key]; ok {
			vals[i] = k + 1
			continue
		}
		pos[key] = len(keys)
		keys = append(keys, key)
		vals = append(vals, k+1)
	}
	return keys, vals
}

func (st *state) forbidExtras(n *node, ti int32) {
	keys, vals := st.members(ti)
	for i, key := range keys {
		if n.lookup([]byte(key)) >= 0 {
			continue
		}
		st.pushKey(key)
		st.fail(vals[i], errExtraForbidden, nil)
		st.pop()
	}
}

// allowExtras checks the undeclared members a model keeps (additionalProperties: true), which
// reach the handler unvalidated.
func (st *state) allowExtras(n *node, ti int32) {
	if !st.escapedWithin(ti) {
		return
	}
	keys, vals := st.members(ti)
	for i, key := range keys {
		if n.lookup([]byte(key)) >= 0 {
			continue
		}
		st.pushKey(key)
		st.refuseNULKey(key, vals[i]-1)
		st.refuseNUL(vals[i])
		st.pop()
	}
}

// refuseNUL reports every NUL inside a value that no schema node looks into (an untyped value,
// a free-form object, a model's allowed extra member), which the handler would otherwise
// receive as it came: each string holding one at its own loc, and an object key holding one
// at the key's loc followed by "[key]", as pydantic locates a dict key's error.
func (st *state) refuseNUL(ti int32) {
	if !st.escapedWithin(ti) {
		return
	}
	t := &st.toks[ti]
	switch t.typ {
	case tString:
		if bytes.IndexByte(st.content(t), 0) >= 0 {
			st.fail(ti, errNUL, nulCtx())
		}
	case tArray:
		for i, c := 0, ti+1; c < t.next; i, c = i+1, st.toks[c].next {
			st.pushIdx(i)
			st.refuseNUL(c)
			st.pop()
		}
	case tObject:
		keys, vals := st.members(ti)
		for i, key := range keys {
			st.pushKey(key)
			st.refuseNULKey(key, vals[i]-1)
			st.refuseNUL(vals[i])
			st.pop()
		}
	}
}

// refuseNULKey reports key, whose token (any occurrence: they all hold the same text) is kt,
// when it holds a NUL; the caller has pushed the key.
func (st *state) refuseNULKey(key string, kt int32) {
	if strings.IndexByte(key, 0) < 0 {
		return
	}
	st.pushKey("[key]")
	st.fail(kt, errNUL, nulCtx())
	st.pop()
}

// escapedWithin reports whether the value at ti has an escaped string anywhere (keys
// included): without one it cannot hold a NUL. A subtree's tokens are contiguous.
func (st *state) escapedWithin(ti int32) bool {
	for k := ti; k < st.toks[ti].next; k++ {
		if st.toks[k].esc {
			return true
		}
	}
	return false
}

func checkStringBytes(n *node, s []byte) (*errKind, map[string]any) {
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCount(s)
		if n.minLen >= 0 && l < n.minLen {
			return errStringTooShort, map[string]any{"min_length": n.minLen}
		}
		if n.maxLen >= 0 && l > n.maxLen {
			return errStringTooLong, map[string]any{"max_length": n.maxLen}
		}
	}
	if n.re != nil && !n.re.Match(s) {
		return errStringPatternMismatch, map[string]any{"pattern": n.pattern}
	}
	return nil, nil
}

func checkStringString(n *node, s string) (*errKind, map[string]any) {
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCountInString(s)
		if n.minLen >= 0 && l < n.minLen {
			return errStringTooShort, map[string]any{"min_length": n.minLen}
		}
		if n.maxLen >= 0 && l > n.maxLen {
			return errStringTooLong, map[string]any{"max_length": n.maxLen}
		}
	}
	if n.re != nil && !n.re.MatchString(s) {
		return errStringPatternMismatch, map[string]any{"pattern": n.pattern}
	}
	return nil, nil
}

// writeNorm re-encodes a validated value with pydantic's coercions applied and with
// keys that no declared property claims dropped, so that encoding/json sees exactly
// what the handler of the legacy service would have received.
func (st *state) writeNorm(buf []byte, n *node, ti int32) []byte {
	t := &st.toks[ti]
	switch n.kind {
	case kNullable:
		if t.typ == tNull {
			return append(buf, "null"...)
		}
		return st.writeNorm(buf, n.inner, ti)
	case kInteger:
		v, _ := st.toInt(t)
		return appendInt(buf, v)
	case kNumber:
		if t.typ == tInt || t.typ == tFloat {
			return append(buf, st.raw(t)...)
		}
		f, _ := st.toFloat(t)
		return appendFloat(buf, f)
	case kEnum:
		return st.writeEnum(buf, n, ti)
	case kUUID:
		return st.writeUUID(buf, ti)
	case kBoolean:
		b, _ := st.toBool(t)
		if b {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case kArray:
		buf = append(buf, '[')
		for c := ti + 1; c < t.next; c = st.toks[c].next {
			if c != ti+1 {
				buf = append(buf, ',')
			}
			buf = st.writeNorm(buf, n.items, c)
		}
		return append(buf, ']')
	case kModel:
		found, _, _ := st.matchMembers(n, ti)
		buf = append(buf, '{')
		first := true
		for i := range n.props {
			if found[i] < 0 {
				continue
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = append(buf, n.props[i].quoted...)
			buf = append(buf, ':')
			buf = st.writeNorm(buf, n.props[i].node, found[i])
		}
		st.scratch = st.scratch[:len(st.scratch)-len(n.props)]
		if n.extra == extraAllow {
			keys, vals := st.members(ti)
			for i, key := range keys {
				if n.lookup([]byte(key)) >= 0 {
					continue
				}
				if !first {
					buf = append(buf, ',')
				}
				first = false
				q, _ := json.Marshal(key)
				buf = append(buf, q...)
				buf = append(buf, ':')
				buf = append(buf, st.raw(&st.toks[vals[i]])...)
			}
		}
		return append(buf, '}')
	case kUnion:
		if len(n.choices) == 1 {
			return st.writeNorm(buf, n.choices[0], ti)
		}
		if best, _ := st.pick(n, ti); best >= 0 {
			return st.writeNorm(buf, n.choices[best], ti)
		}
	}
	// Strings, dicts and "any" values pass through verbatim; encoding/json resolves
	// duplicate keys inside them the same way (last wins).
	return append(buf, st.raw(t)...)
}
