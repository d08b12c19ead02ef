// Package firebase is the consumer login lane by Firebase Authentication: POST
// /auth/login/firebase exchanges a Firebase ID token (verified with the Admin SDK) for a
// consumer session. Off by default: it needs modules.firebase.project_id.
package firebase

import (
	_ "embed"

	"firebase.google.com/go/v4/auth"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:   "firebase",
	Config: Section,
	Module: fx.Module("firebase",
		core.OpenAPI("firebase", fragment),
		fx.Provide(
			fx.Private,
			NewAuthClient,
			func(c *auth.Client) TokenVerifier { return c },
			NewService,
		),
		core.Routes(NewRoutes),
		metrics.LoginLane(lane),
		metrics.Dependency("firebase"),
	),
}
