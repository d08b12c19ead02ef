package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

type kind uint8

const (
	kAny kind = iota
	kString
	kInteger
	kNumber
	kBoolean
	kArray
	kModel    // object with declared properties (a pydantic model)
	kDict     // free-form object (dict[str, Any])
	kNullable // anyOf [X, {"type":"null"}]
	kUnion    // anyOf of several non-null schemas
	kEnum     // enum or const: a Literal or an Enum class
	kUUID     // string with format uuid: pydantic's UUID
)

type extraMode uint8

const (
	extraIgnore extraMode = iota // pydantic's default when additionalProperties is absent
	extraForbid
	extraAllow
)

type node struct {
	kind  kind
	title string

	// string
	minLen, maxLen int // -1 when absent
	pattern        string
	re             *regexp.Regexp

	// integer and number: constraints in pydantic's checking order
	bounds []bound

	enum *enumSpec

	items              *node   // array
	minItems, maxItems int     // array; -1 when absent
	inner              *node   // nullable
	choices            []*node // union

	// model
	props  []prop
	byName map[string]int // only for models with many properties
	extra  extraMode
}

type prop struct {
	name     string
	quoted   []byte // JSON-encoded name, for re-encoding coerced bodies
	node     *node
	required bool
}

func newNode(k kind) *node {
	return &node{kind: k, minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
}

func (n *node) hasStrConstraints() bool {
	return n.minLen >= 0 || n.maxLen >= 0 || n.re != nil
}

// lookup finds a declared property; linear search beats hashing for the handful of
// fields a request model has.
func (n *node) lookup(key []byte) int {
	if n.byName != nil {
		if i, ok := n.byName[string(key)]; ok {
			return i
		}
		return -1
	}
	for i := range n.props {
		if n.props[i].name == string(key) {
			return i
		}
	}
	return -1
}

// tag is pydantic's name for a union choice, appended to loc when every choice fails.
func (n *node) tag(depth int) string {
	if depth > 8 {
		return "..."
	}
	switch n.kind {
	case kString:
		if n.hasStrConstraints() {
			return "constrained-str"
		}
		return "str"
	case kInteger:
		if len(n.bounds) > 0 {
			return "constrained-int"
		}
		return "int"
	case kNumber:
		if len(n.bounds) > 0 {
			return "constrained-float"
		}
		return "float"
	case kEnum:
		return n.enum.tag
	case kUUID:
		return "uuid"
	case kBoolean:
		return "bool"
	case kArray:
		return "list[" + n.items.tag(depth+1) + "]"
	case kDict:
		return "dict[str,any]"
	case kModel:
		if n.title != "" {
			return n.title
		}
		return "Model"
	case kNullable:
		return "nullable[" + n.inner.tag(depth+1) + "]"
	case kUnion:
		if len(n.choices) == 1 {
			return n.choices[0].tag(depth + 1)
		}
		parts := make([]string, len(n.choices))
		for i, c := range n.choices {
			parts[i] = c.tag(depth + 1)
		}
		return "union[" + strings.Join(parts, ",") + "]"
	}
	return "any"
}

// jv is an order-preserving JSON value: pydantic reports errors in field-definition
// order, which only the key order of the schema text records.
type jv struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	str  string
	b    bool
	keys []string // objects only
	vals []*jv    // object values or array elements
}

func (v *jv) get(k string) *jv {
	for i := len(v.keys) - 1; i >= 0; i-- {
		if v.keys[i] == k {
			return v.vals[i]
		}
	}
	return nil
}

func parseJV(data []byte) (*jv, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readJV(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func readJV(dec *json.Decoder, depth int) (*jv, error) {
	if depth > 1000 {
		return nil, errors.New("JSON nested too deeply")
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			v := &jv{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				val, err := readJV(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, key)
				v.vals = append(v.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '[':
			v := &jv{kind: 'a'}
			for dec.More() {
				val, err := readJV(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %q", x)
	case string:
		return &jv{kind: 's', str: x}, nil
	case json.Number:
		return &jv{kind: 'n', str: string(x)}, nil
	case bool:
		return &jv{kind: 'b', b: x}, nil
	case nil:
		return &jv{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", t)
}

type compiler struct {
	root *jv
	memo map[*jv]*node // also breaks $ref cycles: a schema is registered before its children
}

func newCompiler(doc []byte) (*compiler, error) {
	c := &compiler{memo: map[*jv]*node{}}
	if len(bytes.TrimSpace(doc)) == 0 {
		c.root = &jv{kind: 'o'}
		return c, nil
	}
	root, err := parseJV(doc)
	if err != nil {
		return nil, fmt.Errorf("schema: document: %w", err)
	}
	c.root = root
	return c, nil
}

// resolve follows a local JSON pointer reference ("#/components/schemas/X").
func (c *compiler) resolve(ref string) (*jv, error) {
	if c.root == nil {
		return nil, fmt.Errorf("schema: $ref %q: no document to resolve against", ref)
	}
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("schema: $ref %q: only local references (#/...) are supported", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("schema: $ref %q: %w", ref, err)
	}
	cur := c.root
	if frag == "" {
		return cur, nil
	}
	if frag[0] != '/' {
		return nil, fmt.Errorf("schema: $ref %q: not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next *jv
		switch cur.kind {
		case 'o':
			next = cur.get(tok)
		case 'a':
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(cur.vals) {
				next = cur.vals[i]
			}
		}
		if next == nil {
			return nil, fmt.Errorf("schema: $ref %q: %q not found", ref, tok)
		}
		cur = next
	}
	return cur, nil
}

// keywordsByType is the supported subset. Everything else is refused at compile time, naming
// the keyword and where it is, rather than silently not enforced. Of the formats only "uuid" is
// supported (fillString): pydantic's EmailStr, datetime and URL answers are not reproduced.
var keywordsByType = map[string]map[string]bool{
	"string":  {"type": true, "minLength": true, "maxLength": true, "pattern": true, "format": true},
	"integer": {"type": true, "minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true},
	"number":  {"type": true, "minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true},
	"boolean": {"type": true},
	"array":   {"type": true, "items": true, "minItems": true, "maxItems": true},
	"object":  {"type": true, "properties": true, "required": true, "additionalProperties": true},
}

// refusedKeywords explains the refusals a fragment author is most likely to meet.
var refusedKeywords = map[string]string{
	"format":        "only format uuid is supported; pydantic's email, date-time and uri answers are not reproduced",
	"oneOf":         "pydantic publishes oneOf only for discriminated unions, which are not supported; use anyOf",
	"discriminator": "discriminated unions are not supported; use anyOf",
	"allOf":         "allOf is not supported",
	"not":           "not is not supported",
}

func unsupported(path, k, where string) error {
	if why, ok := refusedKeywords[k]; ok {
		return fmt.Errorf("schema %s: keyword %q is not supported%s: %s", path, k, where, why)
	}
	return fmt.Errorf("schema %s: keyword %q is not supported%s", path, k, where)
}

func isAnnotation(k string) bool {
	return k == "title" || k == "description" || k == "default"
}

func (c *compiler) compile(v *jv, path string, refDepth int) (*node, error) {
	if n, ok := c.memo[v]; ok {
		return n, nil
	}
	if v.kind != 'o' {
		if v.kind == 'b' && v.b {
			// true is the JSON Schema spelling of "anything".
			return newNode(kAny), nil
		}
		return nil, fmt.Errorf("schema %s: a schema must be an object", path)
	}
	if ref := v.get("$ref"); ref != nil {
		for _, k := range v.keys {
			if k != "$ref" && !isAnnotation(k) {
				return nil, unsupported(path, k, " beside $ref")
			}
		}
		if ref.kind != 's' {
			return nil, fmt.Errorf("schema %s: $ref must be a string", path)
		}
		if refDepth > 64 {
			return nil, fmt.Errorf("schema %s: $ref chain too long or circular", path)
		}
		target, err := c.resolve(ref.str)
		if err != nil {
			return nil, err
		}
		return c.compile(target, ref.str, refDepth+1)
	}

	n := newNode(kAny)
	c.memo[v] = n
	if t := v.get("title"); t != nil && t.kind == 's' {
		n.title = t.str
	}
	if any := v.get("anyOf"); any != nil {
		return n, c.fillAnyOf(n, v, any, path)
	}
	if v.get("enum") != nil || v.get("const") != nil {
		return n, c.fillEnum(n, v, path, enumClass(v, path))
	}
	t := v.get("type")
	if t == nil {
		for _, k := range v.keys {
			if !isAnnotation(k) {
				return nil, unsupported(path, k, " without a type")
			}
		}
		n.kind = kAny
		return n, nil
	}
	if t.kind != 's' {
		return nil, fmt.Errorf("schema %s: type must be a single string (use anyOf for nullable types)", path)
	}
	allowed, ok := keywordsByType[t.str]
	if !ok {
		return nil, fmt.Errorf("schema %s: type %q is not supported here", path, t.str)
	}
	for _, k := range v.keys {
		if !allowed[k] && !isAnnotation(k) {
			return nil, unsupported(path, k, " for type "+t.str)
		}
	}
	switch t.str {
	case "string":
		n.kind = kString
		return n, c.fillString(n, v, path)
	case "integer":
		n.kind = kInteger
		return n, c.fillBounds(n, v, path, true)
	case "number":
		n.kind = kNumber
		return n, c.fillBounds(n, v, path, false)
	case "boolean":
		n.kind = kBoolean
	case "array":
		n.kind = kArray
		var err error
		if n.minItems, err = lengthKeyword(v, "minItems", path); err != nil {
			return nil, err
		}
		if n.maxItems, err = lengthKeyword(v, "maxItems", path); err != nil {
			return nil, err
		}
		items := v.get("items")
		if items == nil {
			n.items = newNode(kAny)
			return n, nil
		}
		in, err := c.compile(items, path+"/items", 0)
		if err != nil {
			return nil, err
		}
		n.items = in
	case "object":
		return n, c.fillObject(n, v, path)
	}
	return n, nil
}

func (c *compiler) fillAnyOf(n *node, v, any *jv, path string) error {
	for _, k := range v.keys {
		if k != "anyOf" && !isAnnotation(k) {
			return unsupported(path, k, " beside anyOf")
		}
	}
	if any.kind != 'a' || len(any.vals) == 0 {
		return fmt.Errorf("schema %s: anyOf must be a non-empty array", path)
	}
	nullable := false
	var choices []*node
	for i, m := range any.vals {
		if isNullSchema(m) {
			nullable = true
			continue
		}
		cn, err := c.compile(m, fmt.Sprintf("%s/anyOf/%d", path, i), 0)
		if err != nil {
			return err
		}
		choices = append(choices, cn)
	}
	var inner *node
	switch len(choices) {
	case 0:
		return fmt.Errorf("schema %s: anyOf with only null is not supported", path)
	case 1:
		inner = choices[0]
	default:
		inner = newNode(kUnion)
		inner.choices = choices
	}
	if nullable {
		n.kind, n.inner = kNullable, inner
		return nil
	}
	// A one-member anyOf is that member; a one-choice union delegates to it without
	// tagging locs, which also works while the member is still being compiled.
	n.kind, n.choices = kUnion, choices
	return nil
}

// checkLoops rejects schemas such as A = anyOf[{$ref A}, null], which would make
// validation recurse without consuming any input.
func (c *compiler) checkLoops() error {
	state := map[*node]uint8{} // 1 visiting, 2 done
	var visit func(n *node) bool
	visit = func(n *node) bool {
		switch state[n] {
		case 1:
			return false
		case 2:
			return true
		}
		state[n] = 1
		var next []*node
		switch n.kind {
		case kNullable:
			next = []*node{n.inner}
		case kUnion:
			next = n.choices
		}
		for _, m := range next {
			if !visit(m) {
				return false
			}
		}
		state[n] = 2
		return true
	}
	for _, n := range c.memo {
		if !visit(n) {
			return errors.New("schema: anyOf refers to itself without an intervening object or array")
		}
	}
	return nil
}

func isNullSchema(v *jv) bool {
	if v.kind != 'o' {
		return false
	}
	t := v.get("type")
	if t == nil || t.kind != 's' || t.str != "null" {
		return false
	}
	for _, k := range v.keys {
		if k != "type" && !isAnnotation(k) {
			return false
		}
	}
	return true
}

func (c *compiler) fillString(n *node, v *jv, path string) error {
	if f := v.get("format"); f != nil {
		if f.kind != 's' || f.str != "uuid" {
			return unsupported(path, "format", " for type string (format "+strconv.Quote(f.str)+")")
		}
		for _, k := range v.keys {
			if k != "type" && k != "format" && !isAnnotation(k) {
				return unsupported(path, k, " beside format uuid")
			}
		}
		n.kind = kUUID
		return nil
	}
	var err error
	if n.minLen, err = lengthKeyword(v, "minLength", path); err != nil {
		return err
	}
	if n.maxLen, err = lengthKeyword(v, "maxLength", path); err != nil {
		return err
	}
	if p := v.get("pattern"); p != nil {
		if p.kind != 's' {
			return fmt.Errorf("schema %s: pattern must be a string", path)
		}
		re, err := compilePattern(p.str)
		if err != nil {
			return fmt.Errorf("schema %s: pattern %q: %w", path, p.str, err)
		}
		n.pattern, n.re = p.str, re
	}
	return nil
}

// enumClass names the Enum an enum schema is, when the schema is a component of its own: that
// is how pydantic publishes an Enum class, while a Literal stays inline in its field.
func enumClass(v *jv, path string) string {
	name, ok := strings.CutPrefix(path, "#/components/schemas/")
	if !ok || strings.Contains(name, "/") {
		return ""
	}
	if t := v.get("title"); t != nil && t.kind == 's' {
		return t.str
	}
	return name
}

func lengthKeyword(v *jv, k, path string) (int, error) {
	x := v.get(k)
	if x == nil {
		return -1, nil
	}
	if x.kind != 'n' {
		return 0, fmt.Errorf("schema %s: %s must be a number", path, k)
	}
	i, err := strconv.Atoi(x.str)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("schema %s: %s must be a non-negative integer", path, k)
	}
	return i, nil
}

func (c *compiler) fillObject(n *node, v *jv, path string) error {
	n.kind = kDict
	n.extra = extraIgnore
	if ap := v.get("additionalProperties"); ap != nil {
		if ap.kind != 'b' {
			return fmt.Errorf("schema %s: additionalProperties must be true or false", path)
		}
		if ap.b {
			n.extra = extraAllow
		} else {
			n.extra = extraForbid
		}
	}
	props := v.get("properties")
	if props == nil && n.extra != extraForbid {
		if v.get("required") != nil {
			return fmt.Errorf("schema %s: required without properties is not supported", path)
		}
		return nil
	}
	n.kind = kModel
	if props != nil {
		if props.kind != 'o' {
			return fmt.Errorf("schema %s: properties must be an object", path)
		}
		for i, name := range props.keys {
			for _, p := range n.props {
				if p.name == name {
					return fmt.Errorf("schema %s: property %q declared twice", path, name)
				}
			}
			pn, err := c.compile(props.vals[i], path+"/properties/"+name, 0)
			if err != nil {
				return err
			}
			q, _ := json.Marshal(name)
			n.props = append(n.props, prop{name: name, quoted: q, node: pn})
		}
	}
	if req := v.get("required"); req != nil {
		if req.kind != 'a' {
			return fmt.Errorf("schema %s: required must be an array", path)
		}
		for _, r := range req.vals {
			if r.kind != 's' {
				return fmt.Errorf("schema %s: required entries must be strings", path)
			}
			i := n.lookup([]byte(r.str))
			if i < 0 {
				return fmt.Errorf("schema %s: required property %q is not declared", path, r.str)
			}
			n.props[i].required = true
		}
	}
	if len(n.props) > 8 {
		n.byName = make(map[string]int, len(n.props))
		for i, p := range n.props {
			n.byName[p.name] = i
		}
	}
	return nil
}
