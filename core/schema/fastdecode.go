package schema

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// After validation the body's tokens are already at hand; decoding them again with
// encoding/json (which scans every byte twice: checkValid, then decode) was a third of
// /tokens/verify's in-process CPU. fastDecode fills flat request structs (string, bool, int
// and float fields) straight from the tokens. It handles only bodies whose result is certain to
// equal encoding/json's, and declines everything else (escaped strings, keys that are not an
// exact field name, nested values, other field types) to json.Unmarshal.

type fieldPlan struct {
	index int
	kind  reflect.Kind
	bits  int
}

type structPlan struct {
	ok     bool
	fields map[string]fieldPlan
}

var plans sync.Map // reflect.Type → *structPlan

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func planFor(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p := &structPlan{ok: true, fields: map[string]fieldPlan{}}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		p.ok = false
	}
	for i := 0; i < t.NumField() && p.ok; i++ {
		f := t.Field(i)
		if f.Anonymous {
			p.ok = false // embedded fields promote their own: leave it to encoding/json
			break
		}
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if opts != "" && opts != "omitempty" && opts != "omitzero" {
			p.ok = false // ",string" and friends change decoding
			break
		}
		ft := f.Type
		if reflect.PointerTo(ft).Implements(jsonUnmarshaler) || reflect.PointerTo(ft).Implements(textUnmarshaler) {
			p.ok = false
			break
		}
		switch k := ft.Kind(); k {
		case reflect.String, reflect.Bool,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Float32, reflect.Float64:
			if _, dup := p.fields[name]; dup {
				p.ok = false // encoding/json's rules for clashing names: not ours to mimic
				break
			}
			fp := fieldPlan{index: i, kind: k}
			if k != reflect.String && k != reflect.Bool {
				fp.bits = ft.Bits()
			}
			p.fields[name] = fp
		default:
			p.ok = false
		}
	}
	plans.Store(t, p)
	return p
}

// fastDecode decodes the validated top-level object into dst, reporting false (dst untouched)
// when it cannot guarantee encoding/json's result.
func (st *state) fastDecode(dst any) bool {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return false
	}
	sv := rv.Elem()
	plan := planFor(sv.Type())
	obj := &st.toks[0]
	if !plan.ok || obj.typ != tObject {
		return false
	}
	// First pass: every member must be one we can set exactly; nothing is written before.
	for k := int32(1); k < obj.next; k = st.toks[k+1].next {
		kt, vt := &st.toks[k], &st.toks[k+1]
		if kt.esc {
			return false
		}
		key := st.raw(kt)
		f, ok := plan.fields[string(key[1:len(key)-1])]
		if !ok || !settable(f, vt, st.raw(vt)) {
			return false
		}
	}
	for k := int32(1); k < obj.next; k = st.toks[k+1].next {
		key := st.raw(&st.toks[k])
		f := plan.fields[string(key[1:len(key)-1])]
		vt := &st.toks[k+1]
		raw := st.raw(vt)
		fv := sv.Field(f.index)
		switch vt.typ {
		case tNull: // encoding/json leaves a non-pointer field as it was
		case tString:
			fv.SetString(string(raw[1 : len(raw)-1]))
		case tTrue, tFalse:
			fv.SetBool(vt.typ == tTrue)
		case tInt, tFloat:
			if f.kind == reflect.Float32 || f.kind == reflect.Float64 {
				v, _ := strconv.ParseFloat(string(raw), f.bits)
				fv.SetFloat(v)
			} else {
				v, _ := strconv.ParseInt(string(raw), 10, f.bits)
				fv.SetInt(v)
			}
		}
	}
	return true
}

// settable reports whether the value token goes into the field exactly as encoding/json would
// put it, without an error.
func settable(f fieldPlan, vt *tok, raw []byte) bool {
	switch vt.typ {
	case tNull:
		return true
	case tString:
		return f.kind == reflect.String && !vt.esc
	case tTrue, tFalse:
		return f.kind == reflect.Bool
	case tInt:
		switch f.kind {
		case reflect.Float32, reflect.Float64:
			_, err := strconv.ParseFloat(string(raw), f.bits)
			return err == nil
		case reflect.String, reflect.Bool:
			return false
		}
		_, err := strconv.ParseInt(string(raw), 10, f.bits)
		return err == nil
	case tFloat:
		if f.kind != reflect.Float32 && f.kind != reflect.Float64 {
			return false
		}
		_, err := strconv.ParseFloat(string(raw), f.bits)
		return err == nil
	}
	return false
}
