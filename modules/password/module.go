// Package password is the staff login lane: email + password for admins, operators and
// network managers (POST /auth/login).
package password

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "password",
	EnabledByDefault: true,
	Module: fx.Module("password",
		core.OpenAPI("password", fragment),
		fx.Provide(NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane("password"),
		core.AccountLockLane("password"),
	),
}
