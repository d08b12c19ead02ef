package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Floor checks modules' fragments against the legacy contract, which is a floor, not a ceiling:
//
//   - every operation (method and path) of the contract is served by exactly one fragment, with
//     the contract's text, and every schema it references (transitively) is the contract's;
//   - a fragment never redefines a contract schema differently, even one no operation of its own
//     uses, since the assembled document has one schema of each name;
//   - an operation the contract lacks is documented as a client needs it (see documented);
//   - the fragments assemble (Assemble: no operation or operationId twice, no schema two ways),
//     and the document's frame (info, security schemes) is the contract's.
//
// It returns every problem found, joined, or nil. The check needs every module's fragment, so
// it runs in a test; Conforms is the part that holds for any selection of modules.
func Floor(contract []byte, frags []Fragment) error {
	return checkContract(contract, frags, true)
}

// Conforms is Floor for the fragments of the enabled modules only, as at start: a contract
// operation may be absent (its module is off), every other rule holds.
func Conforms(contract []byte, frags []Fragment) error {
	return checkContract(contract, frags, false)
}

func checkContract(contract []byte, frags []Fragment, complete bool) error {
	var want contractDoc
	if err := json.Unmarshal(contract, &want); err != nil {
		return fmt.Errorf("openapi: contract: %w", err)
	}
	var errs []error
	parsed := make([]fragmentDoc, len(frags))
	for i, f := range frags {
		if err := json.Unmarshal(f.JSON, &parsed[i]); err != nil {
			errs = append(errs, fmt.Errorf("openapi: fragment of %s: %w", f.Module, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	errs = append(errs, checkContractOperations(want, frags, parsed, complete)...)
	for i, f := range frags {
		errs = append(errs, checkFragmentSchemas(want, f.Module, parsed[i])...)
		errs = append(errs, checkAddedOperations(want, f.Module, parsed[i])...)
	}
	doc, err := Assemble(frags)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, checkFrame(contract, doc.JSON)...)
	}
	return errors.Join(errs...)
}

type contractDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

func checkContractOperations(want contractDoc, frags []Fragment, parsed []fragmentDoc, complete bool) []error {
	var errs []error
	for _, path := range sortedKeys(want.Paths) {
		for _, method := range sortedKeys(want.Paths[path]) {
			contractOp := want.Paths[path][method]
			var servers []int
			for i := range parsed {
				if _, ok := parsed[i].Paths[path][method]; ok {
					servers = append(servers, i)
				}
			}
			op := strings.ToUpper(method) + " " + path
			switch len(servers) {
			case 0:
				if complete {
					errs = append(errs, fmt.Errorf("openapi: contract operation %s is served by no module", op))
				}
				continue
			case 1:
			default:
				names := make([]string, len(servers))
				for k, i := range servers {
					names[k] = frags[i].Module
				}
				errs = append(errs, fmt.Errorf("openapi: contract operation %s is served by %d modules: %s", op, len(servers), strings.Join(names, ", ")))
				continue
			}
			f := parsed[servers[0]]
			module := frags[servers[0]].Module
			if !jsonEqual(f.Paths[path][method], contractOp) {
				errs = append(errs, fmt.Errorf("openapi: %s in %s differs from the contract", op, module))
			}
			errs = append(errs, checkReferencedSchemas(want, module, op, f, contractOp)...)
		}
	}
	return errs
}

// checkReferencedSchemas follows the contract operation's $refs through the fragment: each
// schema the operation reaches must be there and be the contract's.
func checkReferencedSchemas(want contractDoc, module, op string, f fragmentDoc, raw json.RawMessage) []error {
	var errs []error
	seen := map[string]bool{}
	queue := schemaRefs(raw)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		got, ok := f.Components.Schemas[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("openapi: %s in %s references schema %s, which its fragment lacks", op, module, name))
			continue
		case !jsonEqual(got, want.Components.Schemas[name]):
			errs = append(errs, fmt.Errorf("openapi: schema %s used by %s differs in %s from the contract", name, op, module))
		}
		queue = append(queue, schemaRefs(got)...)
	}
	return errs
}

func checkFragmentSchemas(want contractDoc, module string, f fragmentDoc) []error {
	var errs []error
	for _, name := range sortedKeys(f.Components.Schemas) {
		if c, ok := want.Components.Schemas[name]; ok && !jsonEqual(f.Components.Schemas[name], c) {
			errs = append(errs, fmt.Errorf("openapi: %s redefines contract schema %s differently", module, name))
		}
	}
	return errs
}

func checkAddedOperations(want contractDoc, module string, f fragmentDoc) []error {
	var errs []error
	for _, path := range sortedKeys(f.Paths) {
		for _, method := range sortedKeys(f.Paths[path]) {
			if _, inContract := want.Paths[path][method]; inContract {
				continue
			}
			op := strings.ToUpper(method) + " " + path
			raw := f.Paths[path][method]
			for _, problem := range documented(raw) {
				errs = append(errs, fmt.Errorf("openapi: %s added by %s: %s", op, module, problem))
			}
			for _, name := range schemaRefs(raw) {
				if _, ok := f.Components.Schemas[name]; !ok {
					errs = append(errs, fmt.Errorf("openapi: %s added by %s references schema %s, which its fragment lacks", op, module, name))
				}
			}
		}
	}
	return errs
}

// documented lists what an added operation lacks for a client to call it as the contract's
// operations can be called: a name, a human description, its body's schema, and its answers,
// including the 422 that every validated body or parameter can produce (as FastAPI documents).
func documented(raw json.RawMessage) []string {
	var op struct {
		OperationID string            `json:"operationId"`
		Summary     string            `json:"summary"`
		Description string            `json:"description"`
		Parameters  []json.RawMessage `json:"parameters"`
		RequestBody *struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]json.RawMessage `json:"responses"`
	}
	if err := json.Unmarshal(raw, &op); err != nil {
		return []string{err.Error()}
	}
	var missing []string
	if op.OperationID == "" {
		missing = append(missing, "no operationId")
	}
	if op.Summary == "" && op.Description == "" {
		missing = append(missing, "no summary or description")
	}
	if op.RequestBody != nil {
		if c, ok := op.RequestBody.Content["application/json"]; !ok || len(c.Schema) == 0 {
			missing = append(missing, "a requestBody without an application/json schema")
		}
	}
	if len(op.Responses) == 0 {
		missing = append(missing, "no responses")
	}
	if (op.RequestBody != nil || len(op.Parameters) > 0) && op.Responses["422"] == nil {
		missing = append(missing, "validates its input but documents no 422 response")
	}
	return missing
}

// checkFrame compares everything but paths and schemas, which modules contribute.
func checkFrame(contract, assembled []byte) []error {
	var want, got map[string]any
	if json.Unmarshal(contract, &want) != nil || json.Unmarshal(assembled, &got) != nil {
		return []error{errors.New("openapi: frame: unreadable document")}
	}
	for _, doc := range []map[string]any{want, got} {
		delete(doc, "paths")
		if comps, ok := doc["components"].(map[string]any); ok {
			delete(comps, "schemas")
		}
	}
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	if !jsonEqual(w, g) {
		return []error{errors.New("openapi: the assembled document's info or security schemes differ from the contract")}
	}
	return nil
}

const schemaRefPrefix = "#/components/schemas/"

// schemaRefs lists the component schemas a JSON value refers to, at any depth.
func schemaRefs(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, schemaRefPrefix) {
					out = append(out, strings.TrimPrefix(s, schemaRefPrefix))
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
