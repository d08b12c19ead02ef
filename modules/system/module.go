// Package system serves the probes and the assembled OpenAPI document. It is always on.
package system

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:     "system",
	AlwaysOn: true,
	Module: fx.Module("system",
		core.OpenAPI("system", fragment),
		core.Routes(NewRoutes),
	),
}
