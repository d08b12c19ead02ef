// Package session serves what every lane's tokens share: refresh with rotation, logout,
// verification for other services, and the admin profile. It is always on.
package session

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:     "session",
	AlwaysOn: true,
	Module: fx.Module("session",
		core.OpenAPI("session", fragment),
		core.Routes(NewRoutes),
	),
}
