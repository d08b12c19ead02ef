// Package apidocs serves the API reference pages the legacy FastAPI service had: Swagger UI at
// GET /docs and ReDoc at GET /redoc. Both render the assembled /openapi.json of the running
// service, so a tenant sees only the lanes it runs. Their scripts and styles are committed under
// assets/ (versions, sources and hashes in assets/manifest.json) and embedded in the binary: no
// CDN, and `go run` needs no npm.
package apidocs

import (
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

// Plugin is the catalogue entry. The pages are operational, like /openapi.json itself, and
// FastAPI lists neither /docs nor /redoc in its document: the routes are Undocumented, so the
// module has no OpenAPI fragment.
var Plugin = core.Plugin{
	Name:             "api_docs",
	EnabledByDefault: true,
	Module: fx.Module("api_docs",
		fx.Provide(fx.Private, newSite),
		core.Routes(NewRoutes),
	),
}
