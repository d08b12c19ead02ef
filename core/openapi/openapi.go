// Package openapi assembles the served OpenAPI document from the fragments that enabled
// modules contribute, and finds each operation's request schema for the router. A module's
// fragment is the single source of truth for its documentation and its request validation.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

//go:embed base.json
var baseJSON []byte

// Fragment is one module's part of the document: {"paths": {...}, "components": {"schemas": {...}}},
// copied from the contract for the operations the module serves.
type Fragment struct {
	Module string
	JSON   []byte
}

// Operation is what the router needs to know about one documented operation.
type Operation struct {
	ID     string
	Method string // upper case
	Path   string
	// Doc is the fragment the operation came from; schema refs resolve inside it.
	Doc []byte
	// Body is the raw JSON schema of the application/json request body, nil if none.
	Body json.RawMessage
	// Params are the raw parameter objects (name, in, schema...).
	Params []Param
}

// Param is a documented path or query parameter.
type Param struct {
	Name   string          `json:"name"`
	In     string          `json:"in"`
	Schema json.RawMessage `json:"schema"`
}

type fragmentDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type operationDoc struct {
	OperationID string  `json:"operationId"`
	Parameters  []Param `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

// Document is the assembled document plus an index of its operations.
type Document struct {
	JSON       []byte
	Operations map[string]Operation // by operationId
}

// Assemble merges fragments into one document. Two fragments may share a schema only if they
// agree on it; two may never serve the same method and path, nor use the same operationId (the
// router finds an operation's schema by it). Whether the fragments keep the contract's
// operations is Floor's to check, since it needs every module's fragment.
func Assemble(frags []Fragment) (*Document, error) {
	var base map[string]any
	if err := json.Unmarshal(baseJSON, &base); err != nil {
		return nil, fmt.Errorf("openapi: base: %w", err)
	}
	paths := map[string]map[string]json.RawMessage{}
	schemas := map[string]json.RawMessage{}
	schemaOwner := map[string]string{}
	ops := map[string]Operation{}
	sorted := append([]Fragment(nil), frags...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Module < sorted[j].Module })
	for _, f := range sorted {
		var fd fragmentDoc
		if err := json.Unmarshal(f.JSON, &fd); err != nil {
			return nil, fmt.Errorf("openapi: fragment of %s: %w", f.Module, err)
		}
		for name, s := range fd.Components.Schemas {
			if prev, ok := schemas[name]; ok && !jsonEqual(prev, s) {
				return nil, fmt.Errorf("openapi: schema %s differs between %s and %s", name, schemaOwner[name], f.Module)
			}
			schemas[name], schemaOwner[name] = s, f.Module
		}
		for path, methods := range fd.Paths {
			if paths[path] == nil {
				paths[path] = map[string]json.RawMessage{}
			}
			for method, raw := range methods {
				if _, dup := paths[path][method]; dup {
					return nil, fmt.Errorf("openapi: %s %s served twice (second by %s)", method, path, f.Module)
				}
				paths[path][method] = raw
				var od operationDoc
				if err := json.Unmarshal(raw, &od); err != nil {
					return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
				}
				if od.OperationID == "" {
					return nil, fmt.Errorf("openapi: %s %s in %s has no operationId", method, path, f.Module)
				}
				op := Operation{ID: od.OperationID, Method: upper(method), Path: path, Doc: f.JSON, Params: od.Parameters}
				if od.RequestBody != nil {
					if c, ok := od.RequestBody.Content["application/json"]; ok {
						op.Body = c.Schema
					}
				}
				if prev, dup := ops[op.ID]; dup {
					return nil, fmt.Errorf("openapi: operationId %s names both %s %s and %s %s (second by %s)", op.ID, prev.Method, prev.Path, op.Method, op.Path, f.Module)
				}
				ops[op.ID] = op
			}
		}
	}
	base["paths"] = paths
	comps := base["components"].(map[string]any)
	comps["schemas"] = schemas
	out, err := json.Marshal(base)
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal: %w", err)
	}
	return &Document{JSON: out, Operations: ops}, nil
}

func upper(s string) string { return string(bytes.ToUpper([]byte(s))) }

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
