package modules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/openapi"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/docs"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// TestFragmentsAreTheContract: the modules' fragments, assembled, are exactly the contract, so
// no module drifted from the text clients rely on and no operation is unowned.
func TestFragmentsAreTheContract(t *testing.T) {
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
	doc, err := openapi.Assemble(frags)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal(doc.JSON, &got)
	_ = json.Unmarshal(docs.Contract, &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("assembled fragments differ from docs/contract/openapi.json")
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
