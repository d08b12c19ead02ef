package apidocs_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store/storetest"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

func start(t *testing.T, config map[string]any) *testkit.Env {
	t.Helper()
	// The pages touch no database: one backend is enough.
	return testkit.Start(t, storetest.Backends(t)[0], testkit.Options{Plugins: modules.All(), Config: config})
}

var assetLink = regexp.MustCompile(`(?:src|href)="(docs/assets/[^"?]+)\?v=([0-9a-f]+)"`)

// TestPagesAndAssets: both pages are HTML under a strict policy, and link to versioned assets
// that are served with their type and cached for a year.
func TestPagesAndAssets(t *testing.T) {
	env := start(t, nil)
	for _, tc := range []struct{ path, wantScript string }{
		{"/docs", "swagger-ui-bundle.js"},
		{"/redoc", "redoc.standalone.js"},
	} {
		r := env.Client.Do("GET", tc.path, nil)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", tc.path, r.Status, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", tc.path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", tc.path)
		}
		if strings.Contains(string(r.Body), "<script>") || strings.Contains(string(r.Body), "<style") {
			t.Errorf("%s has an inline script or style:\n%s", tc.path, r.Body)
		}
		links := assetLink.FindAllStringSubmatch(string(r.Body), -1)
		if len(links) < 3 || !strings.Contains(string(r.Body), tc.wantScript) {
			t.Fatalf("%s links %v, want its stylesheet, %s and its start-up script", tc.path, links, tc.wantScript)
		}
		for _, l := range links {
			a := env.Client.Do("GET", "/"+l[1]+"?v="+l[2], nil)
			if a.Status != 200 || len(a.Body) == 0 {
				t.Errorf("%s: %d", l[1], a.Status)
				continue
			}
			want := "text/javascript; charset=utf-8"
			if strings.HasSuffix(l[1], ".css") {
				want = "text/css; charset=utf-8"
			}
			if ct := a.Header.Get("Content-Type"); ct != want {
				t.Errorf("%s: Content-Type %q, want %q", l[1], ct, want)
			}
			if cc := a.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", l[1], cc)
			}
			if a.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no X-Content-Type-Options: nosniff", l[1])
			}
			etag := a.Header.Get("ETag")
			if again := env.Client.Do("GET", "/"+l[1]+"?v="+l[2], nil, "If-None-Match", etag); etag == "" || again.Status != 304 {
				t.Errorf("%s: ETag %q, revalidation answered %d", l[1], etag, again.Status)
			}
		}
	}
	for _, p := range []string{"/docs/assets/manifest.json", "/docs/assets/LICENSE.redoc", "/docs/assets/..%2fmodule.go", "/docs/assets/nope.js"} {
		if r := env.Client.Do("GET", p, nil); r.Status != 404 || strings.TrimSpace(string(r.Body)) != `{"detail":"Not Found"}` {
			t.Errorf("GET %s: %d %s, want 404 in the contract's shape", p, r.Status, r.Body)
		}
	}
}

// TestSwitchedOff: modules.api_docs.enabled false removes the pages and their assets.
func TestSwitchedOff(t *testing.T) {
	env := start(t, map[string]any{"modules.api_docs.enabled": false})
	for _, p := range []string{"/docs", "/redoc", "/docs/assets/swagger-init.js"} {
		if r := env.Client.Do("GET", p, nil); r.Status != 404 {
			t.Errorf("GET %s with the pages off: %d", p, r.Status)
		}
	}
	if r := env.Client.Do("GET", "/openapi.json", nil); r.Status != 200 {
		t.Errorf("/openapi.json: %d", r.Status)
	}
}
