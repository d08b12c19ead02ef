// Package firebase is the consumer login lane by Firebase Authentication: POST
// /auth/login/firebase exchanges a Firebase ID token (verified with the Admin SDK) for a
// consumer session. Off by default: it needs firebase.project_id.
package firebase

import (
	_ "embed"

	"firebase.google.com/go/v4/auth"
	"github.com/spf13/viper"
	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:     "firebase",
	Defaults: Defaults,
	Validate: Validate,
	Module: fx.Module("firebase",
		core.OpenAPI("firebase", fragment),
		fx.Provide(
			fx.Private,
			func(v *viper.Viper) (Config, error) { return LoadConfig(v) },
			NewAuthClient,
			func(c *auth.Client) TokenVerifier { return c },
			NewService,
		),
		core.Routes(NewRoutes),
	),
}
