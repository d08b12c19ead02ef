package openapi

import (
	"strings"
	"testing"
)

const contractDocJSON = `{
 "openapi": "3.1.0",
 "info": {"title": "cashless-auth", "description": "Authentication, token issuance, and permission management for the Cashless Media platform.", "version": "0.1.0"},
 "paths": {
  "/a": {"post": {"summary": "A", "operationId": "a_post",
   "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}, "required": true},
   "responses": {"200": {"description": "ok"}, "422": {"description": "Validation Error"}}}},
  "/b": {"get": {"summary": "B", "operationId": "b_get", "responses": {"200": {"description": "ok"}}}}
 },
 "components": {
  "schemas": {
   "A": {"type": "object", "properties": {"inner": {"$ref": "#/components/schemas/Inner"}}},
   "Inner": {"type": "string"}
  },
  "securitySchemes": {"OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "/auth/login"}}}}
 }
}`

const (
	fragA = `{"paths": {"/a": {"post": {"summary": "A", "operationId": "a_post",
   "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}, "required": true},
   "responses": {"200": {"description": "ok"}, "422": {"description": "Validation Error"}}}}},
 "components": {"schemas": {"A": {"type": "object", "properties": {"inner": {"$ref": "#/components/schemas/Inner"}}}, "Inner": {"type": "string"}}}}`
	fragB = `{"paths": {"/b": {"get": {"summary": "B", "operationId": "b_get", "responses": {"200": {"description": "ok"}}}}}}`
	// fragAdded serves an operation the contract lacks, documented as Floor wants.
	fragAdded = `{"paths": {"/c": {"post": {"summary": "C", "operationId": "c_post",
   "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/C"}}}, "required": true},
   "responses": {"200": {"description": "ok"}, "422": {"description": "Validation Error"}}}}},
 "components": {"schemas": {"C": {"type": "object"}, "Inner": {"type": "string"}}}}`
)

func frags(extra ...Fragment) []Fragment {
	return append([]Fragment{{Module: "a", JSON: []byte(fragA)}, {Module: "b", JSON: []byte(fragB)}}, extra...)
}

func TestFloorAcceptsContractPlusDocumentedAdditions(t *testing.T) {
	if err := Floor([]byte(contractDocJSON), frags()); err != nil {
		t.Fatalf("exact contract: %v", err)
	}
	if err := Floor([]byte(contractDocJSON), frags(Fragment{Module: "c", JSON: []byte(fragAdded)})); err != nil {
		t.Fatalf("contract plus an added operation: %v", err)
	}
}

// TestFloorRefuses proves each rule fires on its own.
func TestFloorRefuses(t *testing.T) {
	tests := []struct {
		name  string
		frags []Fragment
		want  string
	}{
		{"an unserved operation", []Fragment{{Module: "a", JSON: []byte(fragA)}}, "GET /b is served by no module"},
		{"an altered operation", []Fragment{{Module: "a", JSON: []byte(strings.Replace(fragA, `"summary": "A"`, `"summary": "A!"`, 1))}, {Module: "b", JSON: []byte(fragB)}},
			"POST /a in a differs from the contract"},
		{"an altered referenced schema", []Fragment{{Module: "a", JSON: []byte(strings.Replace(fragA, `"Inner": {"type": "string"}`, `"Inner": {"type": "integer"}`, 1))}, {Module: "b", JSON: []byte(fragB)}},
			"schema Inner used by POST /a differs in a"},
		{"a missing referenced schema", []Fragment{{Module: "a", JSON: []byte(strings.Replace(fragA, `, "Inner": {"type": "string"}`, ``, 1))}, {Module: "b", JSON: []byte(fragB)}},
			"references schema Inner, which its fragment lacks"},
		{"a conflicting contract schema in another module", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"Inner": {"type": "string"}`, `"Inner": {"type": "string", "maxLength": 3}`, 1))}),
			"c redefines contract schema Inner differently"},
		{"an operation served by two modules", frags(Fragment{Module: "twin", JSON: []byte(fragB)}), "GET /b is served by 2 modules: b, twin"},
		{"an added operation without description", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"summary": "C", `, ``, 1))}),
			"POST /c added by c: no summary or description"},
		{"an added operation without 422", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `, "422": {"description": "Validation Error"}`, ``, 1))}),
			"validates its input but documents no 422 response"},
		{"an added body without schema", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"application/json"`, `"text/plain"`, 1))}),
			"a requestBody without an application/json schema"},
		{"an added operation reusing an operationId", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"c_post"`, `"b_get"`, 1))}),
			"operationId b_get names both"},
	}
	for _, tc := range tests {
		err := Floor([]byte(contractDocJSON), tc.frags)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestAssembleRefuses: the start refuses what would make the served document ambiguous, whichever
// modules are enabled.
func TestAssembleRefuses(t *testing.T) {
	tests := []struct {
		name  string
		frags []Fragment
		want  string
	}{
		{"an operation served twice", frags(Fragment{Module: "twin", JSON: []byte(fragB)}), "get /b served twice (second by twin)"},
		{"a schema defined two ways", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"Inner": {"type": "string"}`, `"Inner": {"type": "integer"}`, 1))}),
			"schema Inner differs between a and c"},
		{"an operationId used twice", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"c_post"`, `"a_post"`, 1))}), "operationId a_post names both"},
		{"an operation without operationId", frags(Fragment{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"operationId": "c_post",`, ``, 1))}), "has no operationId"},
	}
	for _, tc := range tests {
		_, err := Assemble(tc.frags)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Assemble(frags(Fragment{Module: "c", JSON: []byte(fragAdded)})); err != nil {
		t.Fatalf("agreeing fragments: %v", err)
	}
}

// TestConforms: with a module off, its contract operations may be absent; the other rules hold.
func TestConforms(t *testing.T) {
	only := []Fragment{{Module: "b", JSON: []byte(fragB)}}
	if err := Conforms([]byte(contractDocJSON), only); err != nil {
		t.Fatalf("a subset of the modules: %v", err)
	}
	if err := Floor([]byte(contractDocJSON), only); err == nil {
		t.Fatal("Floor accepted a missing contract operation")
	}
	altered := []Fragment{{Module: "b", JSON: []byte(strings.Replace(fragB, `"summary": "B"`, `"summary": "B!"`, 1))}}
	if err := Conforms([]byte(contractDocJSON), altered); err == nil || !strings.Contains(err.Error(), "GET /b in b differs from the contract") {
		t.Errorf("an altered operation: got %v", err)
	}
	redefined := []Fragment{{Module: "c", JSON: []byte(strings.Replace(fragAdded, `"Inner": {"type": "string"}`, `"Inner": {"type": "integer"}`, 1))}}
	if err := Conforms([]byte(contractDocJSON), redefined); err == nil || !strings.Contains(err.Error(), "c redefines contract schema Inner differently") {
		t.Errorf("a redefined contract schema: got %v", err)
	}
}
