package modules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/docs"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func moduleFragments(t *testing.T) []openapi.Fragment {
	t.Helper()
	files, err := filepath.Glob("*/openapi.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fragments: %v", err)
	}
	var frags []openapi.Fragment
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		frags = append(frags, openapi.Fragment{Module: filepath.Dir(f), JSON: b})
	}
	return frags
}

// TestFragmentsKeepTheContract: the contract is a floor. Every operation of
// docs/contract/openapi.json is served, with its text and schemas unchanged, by exactly one
// module; modules may add operations and schemas, documented in their fragments.
func TestFragmentsKeepTheContract(t *testing.T) {
	if err := openapi.Floor(docs.Contract, moduleFragments(t)); err != nil {
		t.Fatal(err)
	}
}

// TestFloorCatchesDrift: with the real fragments, an extra module that alters a contract
// operation, one that redefines a contract schema, and one that serves an operation already
// served, each fail the floor; a documented addition passes.
func TestFloorCatchesDrift(t *testing.T) {
	extra := func(module, fragment string) []openapi.Fragment {
		return append(moduleFragments(t), openapi.Fragment{Module: module, JSON: []byte(fragment)})
	}
	var contract struct {
		Paths map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(docs.Contract, &contract); err != nil {
		t.Fatal(err)
	}
	health, err := json.Marshal(contract.Paths["/health"]["get"])
	if err != nil || len(health) < 10 {
		t.Fatalf("contract has no GET /health: %v", err)
	}
	const added = `{"paths": {"/auth/login/example": {"post": {"summary": "Example login", "operationId": "example_login",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExampleLogin"}}}},
		"responses": {"200": {"description": "Successful Response"}, "422": {"description": "Validation Error"}}}}},
		"components": {"schemas": {"ExampleLogin": {"type": "object", "properties": {"kind": {"enum": ["a", "b"], "type": "string"}}}}}}`
	if err := openapi.Floor(docs.Contract, extra("example", added)); err != nil {
		t.Fatalf("a documented addition: %v", err)
	}
	tests := []struct{ name, fragment, want string }{
		{"a second server of GET /health", `{"paths": {"/health": {"get": ` + string(health) + `}}}`,
			"GET /health is served by 2 modules"},
		{"an altered contract operation", `{"paths": {"/auth/login": {"post": {"summary": "Login", "operationId": "example_login_override",
			"responses": {"200": {"description": "ok"}}}}}}`, "POST /auth/login is served by 2 modules"},
		{"a conflicting contract schema", `{"paths": {}, "components": {"schemas": {"LoginRequest": {"type": "object"}}}}`,
			"example redefines contract schema LoginRequest differently"},
		{"an undocumented addition", `{"paths": {"/x": {"post": {"operationId": "x_post", "requestBody": {"content": {}}, "responses": {}}}}}`,
			"no summary or description"},
	}
	for _, tc := range tests {
		err := openapi.Floor(docs.Contract, extra("example", tc.fragment))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	// A module of its own that changes one contract operation's text is caught too.
	frags := moduleFragments(t)
	for i, f := range frags {
		if f.Module == "system" {
			frags[i].JSON = []byte(strings.Replace(string(f.JSON), `"/health"`, `"/healthz"`, 1))
		}
	}
	if err := openapi.Floor(docs.Contract, frags); err == nil || !strings.Contains(err.Error(), "GET /health is served by no module") {
		t.Errorf("a moved contract operation: got %v", err)
	}
}

func servedOperations(t *testing.T, env *testkit.Env) []string {
	t.Helper()
	r := env.Client.Do("GET", "/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("/openapi.json: %d", r.Status)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, methods := range doc.Paths {
		for _, op := range methods {
			ids = append(ids, op.OperationID)
		}
	}
	sort.Strings(ids)
	return ids
}

// TestEveryRouteIsDocumentedAndLimited walks the live router of a server with every module on.
func TestEveryRouteIsDocumentedAndLimited(t *testing.T) {
	env := testkit.Start(t, storetest.Backends(t)[0], testkit.Options{Plugins: modules.All()})
	routes := env.Server.Handler().Routes
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
	ops := map[string]bool{}
	for _, id := range servedOperations(t, env) {
		ops[id] = true
	}
	for _, r := range routes {
		if r.Limit == "" {
			t.Errorf("%s has no rate-limit rule", r.Name)
		}
		if !r.Undocumented && !ops[r.OperationID] {
			t.Errorf("%s: operation %q not served in /openapi.json", r.Name, r.OperationID)
		}
	}
	if len(ops) != countDocumented(routes) {
		t.Errorf("/openapi.json lists %d operations, the router serves %d", len(ops), countDocumented(routes))
	}
}

func countDocumented(routes []*router.Compiled) int {
	n := 0
	for _, r := range routes {
		if !r.Undocumented {
			n++
		}
	}
	return n
}

// TestDisabledModuleVanishes: a module switched off answers 404 and leaves /openapi.json.
func TestDisabledModuleVanishes(t *testing.T) {
	testkit.ForEachBackend(t, testkit.Options{Plugins: modules.All(), Config: map[string]any{"modules.password.enabled": false}}, func(t *testing.T, env *testkit.Env) {
		if r := env.Client.Do("POST", "/auth/login", map[string]any{"email": "a@b.c", "password": "x"}); r.Status != 404 {
			t.Fatalf("disabled lane: %d", r.Status)
		}
		for _, id := range servedOperations(t, env) {
			if id == "login_auth_login_post" {
				t.Fatal("disabled lane still documented")
			}
		}
		if r := env.Client.Do("GET", "/health", nil); r.Status != 200 {
			t.Fatalf("health: %d", r.Status)
		}
	})
}
