package apidocs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/testkit"
	"github.com/cashlessmedia/cashless-auth/modules"
)

// chromiumPath is Debian's chromium, which scripts/tools.sh installs (`make test-deps`).
const chromiumPath = "/usr/bin/chromium"

// lanesOn are the modules the browser test runs: a tenant with two lanes of the catalogue, so
// that the pages must leave every other lane out.
var lanesOn = map[string]bool{"password": true, "device": true, "api_docs": true}

// TestPagesRenderInChromium loads /docs and /redoc in headless Chromium against a server that
// runs only some lanes, and checks that each page lists exactly the operations of that
// server's /openapi.json, with no console error and no Content-Security-Policy violation. A
// screenshot of each page is saved in the test's artifact directory (kept with
// `go test -artifacts -outputdir DIR`).
func TestPagesRenderInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("headless Chromium is required and %s is missing (%v): install it with "+
			"`bash scripts/tools.sh chromium` (`make test-deps` does), as root", chromiumPath, err)
	}
	cfg := map[string]any{}
	for _, p := range modules.All() {
		if !p.AlwaysOn {
			cfg[core.SwitchKey(p.Name)] = lanesOn[p.Name]
		}
	}
	env := start(t, cfg)
	want := documented(t, env)
	if !slices.Contains(want, "POST /auth/login") || slices.Contains(want, "POST /tokens/api-key") {
		t.Fatalf("the server runs other lanes than %v: %v", lanesOn, want)
	}
	browser := startBrowser(t)

	t.Run("swagger-ui", func(t *testing.T) {
		got := renderPage(browser, t, env.URL+"/docs", ".opblock", `Array.from(document.querySelectorAll(".opblock")).map(b =>
			b.querySelector(".opblock-summary-method").textContent.trim() + " " +
			b.querySelector(".opblock-summary-path").getAttribute("data-path"))`)
		compare(t, "Swagger UI", got, want)
	})
	t.Run("redoc", func(t *testing.T) {
		// ReDoc names each operation's section after its operationId.
		ids := renderPage(browser, t, env.URL+"/redoc", `[data-section-id^="operation/"]`,
			`Array.from(document.querySelectorAll('[data-section-id^="operation/"]')).map(s => s.getAttribute("data-section-id").slice("operation/".length))`)
		compare(t, "ReDoc", ids, documentedIDs(t, env))
	})
}

func compare(t *testing.T, page string, got, want []string) {
	t.Helper()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s lists %d operations:\n  %s\nthe server's /openapi.json has %d:\n  %s", page, len(got),
			strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

type openAPIDoc struct {
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
	} `json:"paths"`
}

func readDoc(t *testing.T, env *testkit.Env) openAPIDoc {
	t.Helper()
	r := env.Client.Do("GET", "/openapi.json", nil)
	var doc openAPIDoc
	if r.Status != 200 || json.Unmarshal(r.Body, &doc) != nil {
		t.Fatalf("/openapi.json: %d %.200s", r.Status, r.Body)
	}
	return doc
}

// documented is "METHOD /path" for every operation of the server's /openapi.json, sorted.
func documented(t *testing.T, env *testkit.Env) []string {
	var ops []string
	for path, methods := range readDoc(t, env).Paths {
		for m := range methods {
			ops = append(ops, strings.ToUpper(m)+" "+path)
		}
	}
	sort.Strings(ops)
	return ops
}

// documentedIDs are the operationIds of the server's /openapi.json, sorted.
func documentedIDs(t *testing.T, env *testkit.Env) []string {
	var ids []string
	for _, methods := range readDoc(t, env).Paths {
		for _, op := range methods {
			ids = append(ids, op.OperationID)
		}
	}
	sort.Strings(ids)
	return ids
}

// startBrowser starts headless Chromium with the flags this closed, root-run machine needs
// and an empty profile, and stops it when the test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // root, and no user namespaces in the sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Run starts the browser; no timeout on it, or the timeout would stop the browser.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return browser
}

// trackViolations records Content-Security-Policy violations in the page, before any of its
// own scripts run (DevTools injects it, so the policy does not apply to it).
const trackViolations = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", e =>
	window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`

// problems collects what the page reported as wrong: console errors, uncaught exceptions,
// browser-log errors (where Chromium reports CSP violations) and failed or non-2xx requests.
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			p.add("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		p.add("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p.add("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventLoadingFailed:
		p.add("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.add("HTTP %d for %s", ev.Response.Status, ev.Response.URL)
		}
	}
}

// renderPage opens url in a new tab, waits until ready matches an element, gives the page a
// moment to finish, saves a screenshot and returns what the list expression evaluates to.
func renderPage(browser context.Context, t *testing.T, url, ready, list string) []string {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	var seen problems
	if err := chromedp.Listen(tab, seen.listen); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: trackViolations}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		screenshot(tab, t, "timeout", chromedp.CaptureScreenshot())
		t.Fatalf("%s did not render %s within 60s: %v\nreported: %s", url, ready, err, strings.Join(seen.list, "\n"))
	}
	// Rendering goes on after the first operation appears (ReDoc's search worker, Swagger UI's
	// remaining tags): let it settle before reading and before the screenshot.
	if err := chromedp.Do(ctx, chromedp.Sleep(time.Second)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s rendered in %s", url, time.Since(start).Round(time.Millisecond))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](list))
	if err != nil {
		t.Fatalf("reading the operations of %s: %v", url, err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string]("window.__cspViolations"))
	if err != nil {
		t.Fatalf("reading CSP violations: %v", err)
	}
	screenshot(ctx, t, "viewport", chromedp.CaptureScreenshot())
	screenshot(ctx, t, "full-page", chromedp.FullScreenshot(100))
	for _, v := range violations {
		t.Errorf("Content-Security-Policy violation: %s", v)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, p := range seen.list {
		t.Errorf("%s: %s", url, p)
	}
	return got
}

// screenshot saves the PNG that shot takes (quality 100 is PNG) as name.png in the test's
// artifact directory.
func screenshot(ctx context.Context, t *testing.T, name string, shot chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}
