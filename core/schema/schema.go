// Package schema validates request bodies and parameters against JSON Schemas taken from
// the OpenAPI contract and reports failures exactly as FastAPI + pydantic v2 (lax mode)
// would, so that clients written against the legacy Python service keep working.
//
// Supported schema subset: type object (properties, required, additionalProperties
// true/false/absent), string (minLength, maxLength, pattern; or format uuid, pydantic's UUID,
// handed to the handler in canonical form), integer and number (minimum,
// maximum, exclusiveMinimum, exclusiveMaximum; multipleOf for integers), boolean, array (items,
// minItems, maxItems), enum and const of strings and integers (inline: a Literal; a component
// schema of its own: an Enum class, which pydantic answers differently), anyOf (a nullable
// type, or a union of types, with pydantic's smart-union choice and tags), $ref, and the
// annotations title, description and default. A schema with no type is "any". Compile fails,
// naming the keyword and where it is, on every other keyword rather than silently ignoring a
// constraint: other formats (pydantic's email, date-time and URL answers are not reproduced),
// oneOf and discriminator (pydantic emits them only for discriminated unions), allOf, not,
// multipleOf on numbers, enum values that are not printable ASCII strings or int64 integers.
//
// A JSON Schema library (santhosh-tekuri/jsonschema) would validate the same keywords but
// cannot give pydantic's answers (lax coercion, messages, ctx, union tags, error order), so
// this validator is hand-written and gated by testdata/pydantic_golden.json.
//
// Body.Decode parses JSON the way Python's json module does (same error messages and
// character positions), validates it the way pydantic does, and only then fills the
// caller's struct with encoding/json. Body.DecodeMedia first decides from the Content-Type
// whether the body is JSON at all, as FastAPI does (JSONMediaType).
//
// Hardening beyond pydantic (docs/contract/NOTES.md, "Hardening decisions"): a string holding
// U+0000, which PostgreSQL cannot store, is refused wherever it would reach the handler (a
// string field at any depth, a path parameter, a key or value inside a free-form object) with
//
//	{"loc": [..., <field>], "msg": "Value error, String should not contain NUL characters",
//	 "type": "value_error", "input": <the string>, "ctx": {"error": {}}}
//
// which is what a pydantic BeforeValidator raising that ValueError answers through FastAPI; it
// is checked before the field's length and pattern. A key holding one is located at the key
// followed by "[key]".
//
// Deliberate differences, where the legacy service would answer 400/500 or hand the
// handler a value Go cannot hold: NaN/Infinity literals, invalid UTF-8 and nesting
// deeper than 512 levels are json_invalid; integers outside int64 are int_parsing_size;
// infinite numbers are finite_number; lone UTF-16 surrogates become U+FFFD. JSON error
// messages are those of Python 3.13+ (which reports trailing commas explicitly).
package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Issue is one entry of a FastAPI 422 body: {"detail":[Issue...]}.
//
// Input holds a Go scalar (nil, bool, int64, string, or json.Number for floats and
// integers outside int64) or, for objects and arrays, a json.RawMessage rendered the
// way Python would echo the value (duplicate keys collapsed, last value wins).
type Issue struct {
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Type  string         `json:"type"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// Body validates JSON request bodies against one schema.
//
// Required (true after CompileBody/CompileBodySchema, as for every body in the contract)
// makes an empty body or a JSON null a "missing" error; set it to false before first use
// for an optional body, in which case Decode returns nil and leaves dst untouched.
// A Body is safe for concurrent use once Required is no longer modified.
type Body struct {
	Required bool
	root     *node
}

// CompileBody compiles the schema at ref (a JSON pointer fragment such as
// "#/components/schemas/LoginRequest") inside doc, resolving $ref against doc.
func CompileBody(doc []byte, ref string) (*Body, error) {
	c, err := newCompiler(doc)
	if err != nil {
		return nil, err
	}
	v, err := c.resolve(ref)
	if err != nil {
		return nil, err
	}
	n, err := c.compile(v, ref, 0)
	if err != nil {
		return nil, err
	}
	if err := c.checkLoops(); err != nil {
		return nil, err
	}
	return &Body{Required: true, root: n}, nil
}

// CompileBodySchema compiles an inline schema object, resolving its $ref against doc.
func CompileBodySchema(doc []byte, schemaJSON []byte) (*Body, error) {
	c, err := newCompiler(doc)
	if err != nil {
		return nil, err
	}
	v, err := parseJV(schemaJSON)
	if err != nil {
		return nil, fmt.Errorf("schema: inline schema: %w", err)
	}
	n, err := c.compile(v, "(inline)", 0)
	if err != nil {
		return nil, err
	}
	if err := c.checkLoops(); err != nil {
		return nil, err
	}
	return &Body{Required: true, root: n}, nil
}

// Decode validates body and, when it is valid, fills dst (a pointer to a struct with
// json tags, or nil to validate only). It returns nil when the body is valid.
//
// Callers must treat dst as unusable whenever issues are returned: it is only written
// after validation succeeds, but a value_error from encoding/json can leave it partly
// filled. Properties absent from the body are never written, so callers pre-fill schema
// defaults (e.g. role = "admin") in dst before calling Decode. Coerced values (the
// string "7" or 7.0 for an integer, "yes" for a boolean) are written in coerced form.
// Integers must fit in int64 and numbers in a finite float64; dst fields should be wide
// enough (int64, float64) for any schema-valid value, otherwise a "value_error" issue is
// returned rather than a panic.
func (b *Body) Decode(body []byte, dst any) []Issue {
	if len(body) == 0 {
		if b.Required {
			return []Issue{missingBody()}
		}
		return nil
	}
	// Python's json.loads on bytes decodes with utf-8-sig, so a BOM is accepted and
	// positions are counted after it.
	data := body
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = data[3:]
	}
	if len(data) > maxBody {
		return []Issue{jsonInvalid(0, "Body too large")}
	}
	if !utf8.Valid(data) {
		return []Issue{jsonInvalid(firstInvalidUTF8(data), "Invalid UTF-8")}
	}

	st := getState()
	defer putState(st)
	st.data = data
	if serr := st.parse(); serr != nil {
		return []Issue{jsonInvalid(utf8.RuneCount(data[:serr.pos]), serr.msg)}
	}
	if st.toks[0].typ == tNull {
		if b.Required {
			return []Issue{missingBody()}
		}
		return nil
	}
	st.loc0 = "body"
	st.validate(b.root, 0)
	if st.nerr > 0 {
		issues := st.issues
		st.issues = nil
		return issues
	}
	if dst == nil {
		return nil
	}
	if !st.coerced && st.fastDecode(dst) {
		return nil
	}
	src := data
	if st.coerced {
		src = st.writeNorm(make([]byte, 0, len(data)), b.root, 0)
	}
	if err := json.Unmarshal(src, dst); err != nil {
		return []Issue{decodeFailure(err)}
	}
	return nil
}

// Param validates one path or query parameter given as a raw string.
type Param struct {
	in, name string
	root     *node
}

// CompileParam compiles the schema of the parameter name located in in ("path" or "query").
func CompileParam(in, name string, schemaJSON []byte) (*Param, error) {
	return CompileParamIn(nil, in, name, schemaJSON)
}

// CompileParamIn is CompileParam resolving $ref against doc: FastAPI publishes an Enum
// parameter as a reference to the Enum's schema.
func CompileParamIn(doc []byte, in, name string, schemaJSON []byte) (*Param, error) {
	if in != "path" && in != "query" {
		return nil, fmt.Errorf("schema: parameter %q: unsupported location %q", name, in)
	}
	v, err := parseJV(schemaJSON)
	if err != nil {
		return nil, fmt.Errorf("schema: parameter %q: %w", name, err)
	}
	c, err := newCompiler(doc)
	if err != nil {
		return nil, err
	}
	n, err := c.compile(v, in+"."+name, 0)
	if err != nil {
		return nil, err
	}
	if err := c.checkLoops(); err != nil {
		return nil, err
	}
	if err := scalarOnly(n, 0); err != nil {
		return nil, fmt.Errorf("schema: parameter %q: %w", name, err)
	}
	return &Param{in: in, name: name, root: n}, nil
}

// Check returns nil when raw is valid, otherwise the issues (loc [in, name]).
// An absent required query parameter is the caller's to report, as FastAPI does:
// loc [in, name], type "missing", msg "Field required", input null.
//
// Integer parameters accept what pydantic accepts (" 7 ", "+7", "1_000", "7.00"), so
// callers must not re-parse raw with strconv.ParseInt; use the same leniency or reject
// those forms consistently.
func (p *Param) Check(raw string) []Issue {
	var issues []Issue
	p.check(p.root, raw, nil, &issues)
	return issues
}

func (p *Param) check(n *node, raw string, tags []string, issues *[]Issue) bool {
	fail := func(e *errKind, ctx map[string]any) bool {
		loc := make([]any, 0, 2+len(tags))
		loc = append(loc, p.in, p.name)
		for _, t := range tags {
			loc = append(loc, t)
		}
		*issues = append(*issues, Issue{Loc: loc, Msg: e.msg(ctx), Type: e.typ, Input: raw, Ctx: ctx})
		return false
	}
	switch n.kind {
	case kAny:
		if strings.IndexByte(raw, 0) >= 0 {
			return fail(errNUL, nulCtx())
		}
		return true
	case kNullable:
		return p.check(n.inner, raw, tags, issues)
	case kString:
		if strings.IndexByte(raw, 0) >= 0 {
			return fail(errNUL, nulCtx())
		}
		if e, ctx := checkStringString(n, raw); e != nil {
			return fail(e, ctx)
		}
		return true
	case kInteger:
		v, e := strAsInt(raw)
		if e != nil {
			return fail(e, nil)
		}
		if e, ctx := checkIntBounds(n, v); e != nil {
			return fail(e, ctx)
		}
		return true
	case kNumber:
		f, e := strAsFloat(raw)
		if e != nil {
			return fail(e, nil)
		}
		if e, ctx := checkFloatBounds(n, f); e != nil {
			return fail(e, ctx)
		}
		return true
	case kUUID:
		if _, _, e, ctx := checkUUID(raw); e != nil {
			return fail(e, ctx)
		}
		return true
	case kEnum:
		// Enum values are printable ASCII, so a NUL never matches: no separate check.
		ok, _, _, size := n.enum.matchString(raw)
		switch {
		case size:
			return fail(errIntParsingSize, nil)
		case !ok:
			return fail(n.enum.errKind(), map[string]any{"expected": n.enum.expected})
		}
		return true
	case kBoolean:
		if _, e := strAsBool(raw); e != nil {
			return fail(e, nil)
		}
		return true
	case kUnion:
		if len(n.choices) == 1 {
			return p.check(n.choices[0], raw, tags, issues)
		}
		// A string input is an exact match for a string choice; otherwise the first
		// choice that accepts it wins, as in pydantic's smart union.
		for _, c := range n.choices {
			if c.kind == kString && p.check(c, raw, nil, new([]Issue)) {
				return true
			}
		}
		for _, c := range n.choices {
			if p.check(c, raw, nil, new([]Issue)) {
				return true
			}
		}
		for _, c := range n.choices {
			p.check(c, raw, append(tags[:len(tags):len(tags)], c.tag(0)), issues)
		}
		return false
	}
	return fail(errInternal, nil)
}

func scalarOnly(n *node, depth int) error {
	if depth > 32 {
		return errors.New("schema nesting too deep")
	}
	switch n.kind {
	case kArray, kModel, kDict:
		return fmt.Errorf("%s schemas are not supported for parameters", n.tag(0))
	case kNullable:
		return scalarOnly(n.inner, depth+1)
	case kUnion:
		for _, c := range n.choices {
			if err := scalarOnly(c, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func missingBody() Issue {
	return Issue{Loc: []any{"body"}, Msg: errMissing.text, Type: errMissing.typ, Input: nil}
}

func jsonInvalid(pos int, reason string) Issue {
	return Issue{
		Loc:   []any{"body", pos},
		Msg:   "JSON decode error",
		Type:  "json_invalid",
		Input: map[string]any{},
		Ctx:   map[string]any{"error": reason},
	}
}

// decodeFailure reports a value the schema accepts but dst cannot hold (e.g. an int32
// field receiving 2^40); pydantic has no equivalent, so it is a generic value_error.
func decodeFailure(err error) Issue {
	loc := []any{"body"}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		loc = append(loc, te.Field)
	}
	return Issue{Loc: loc, Msg: "Value error, " + err.Error(), Type: "value_error", Input: nil}
}

func firstInvalidUTF8(b []byte) int {
	chars := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return chars
		}
		i += size
		chars++
	}
	return chars
}

// maxBody keeps token offsets within int32; real limits are enforced by the HTTP layer.
const maxBody = 1<<31 - 1

var statePool = sync.Pool{New: func() any { return new(state) }}

func getState() *state { return statePool.Get().(*state) }

func putState(st *state) {
	// Very large bodies would otherwise pin their token arrays in the pool forever.
	if cap(st.toks) > 1<<16 {
		st.toks = nil
	}
	if cap(st.scratch) > 1<<12 {
		st.scratch = nil
	}
	if cap(st.path) > 1<<10 {
		st.path = nil
	}
	st.reset()
	statePool.Put(st)
}
