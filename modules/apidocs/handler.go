package apidocs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/gorilla/mux"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
)

//go:embed assets pages
var files embed.FS

// The pages' Content-Security-Policy: scripts, styles and the document come from this origin
// only, and no inline script runs (each page's start-up code is an asset of its own).
// Swagger UI needs data: images (the icons in its stylesheet) and nothing inline. ReDoc styles
// its components with styled-components, which inserts <style> elements at run time: it needs
// style-src 'unsafe-inline' (no script can run through it); its search index runs in a Web
// Worker that it builds from a blob: URL, hence worker-src blob:.
const (
	cspCommon  = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	swaggerCSP = cspCommon + "; style-src 'self'"
	redocCSP   = cspCommon + "; style-src 'self' 'unsafe-inline'; worker-src blob:"
)

// assetsPath is where the assets are served. The pages link to them relative to themselves
// ("docs/assets/…" from /docs and /redoc), so they also work behind a path-prefixing proxy.
const assetsPath = "/docs/assets/"

// assetTypes are the files the service serves from assets/, by extension; the licence texts
// and the manifest stay in the repository and the binary only.
var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

type asset struct {
	body        []byte
	contentType string
	// version is the start of the file's SHA-256: pages link to name?v=version, so a new
	// binary's file is a new URL and the old one may be cached for a year.
	version string
}

// site is the rendered pages and the servable assets, built once at start.
type site struct {
	assets  map[string]*asset
	swagger []byte
	redoc   []byte
}

func newSite() (*site, error) {
	s := &site{assets: map[string]*asset{}}
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		ct, ok := assetTypes[path.Ext(e.Name())]
		if !ok || e.IsDir() {
			continue
		}
		body, err := files.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		s.assets[e.Name()] = &asset{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	if s.swagger, err = s.render("pages/docs.html"); err != nil {
		return nil, err
	}
	if s.redoc, err = s.render("pages/redoc.html"); err != nil {
		return nil, err
	}
	return s, nil
}

// render fills a page's {{asset "name"}} links with versioned relative URLs; naming a file
// that is not a servable asset fails the start.
func (s *site) render(name string) ([]byte, error) {
	link := func(file string) (string, error) {
		a, ok := s.assets[file]
		if !ok {
			return "", fmt.Errorf("%s links to %s, which is not in assets/", name, file)
		}
		return "docs/assets/" + file + "?v=" + a.version, nil
	}
	t, err := template.New(path.Base(name)).Funcs(template.FuncMap{"asset": link}).ParseFS(files, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, nil); err != nil {
		return nil, fmt.Errorf("apidocs: %w", err)
	}
	return buf.Bytes(), nil
}

// NewRoutes lists the two pages and their assets. Like /openapi.json they are Undocumented:
// FastAPI does not list /docs and /redoc in its document either. A page load fetches the page,
// two or three assets (cached for a year after the first) and /openapi.json (60/minute).
func NewRoutes(s *site) []router.Route {
	return []router.Route{
		{Name: "api_docs.swagger_ui", Method: http.MethodGet, Path: "/docs", Undocumented: true, Limit: "60/minute", Handler: page(s.swagger, swaggerCSP)},
		{Name: "api_docs.redoc", Method: http.MethodGet, Path: "/redoc", Undocumented: true, Limit: "60/minute", Handler: page(s.redoc, redocCSP)},
		{Name: "api_docs.assets", Method: http.MethodGet, Path: assetsPath + "{file}", Undocumented: true, Limit: "300/minute", Handler: s.serveAsset},
	}
}

func page(body []byte, csp string) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// The page is what names the current assets' versions: always ask again.
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
		return nil
	}
}

func (s *site) serveAsset(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.assets[mux.Vars(r)["file"]]
	if !ok {
		return httpx.NotFound("Not Found")
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+a.version+`"`)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// An unversioned (or stale) link: serve the current file, but let it be replaced.
		h.Set("Cache-Control", "public, max-age=300")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	return nil
}
