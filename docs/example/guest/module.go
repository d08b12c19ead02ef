// Package guest is the smallest complete login provider, the example of docs/adding-a-provider.md:
// a festival's day guests sign in with the code printed on their wristband. It is compiled and
// tested (guest_test.go mounts it beside the catalogue's modules) but listed in no catalogue, so
// the binary does not ship it. Everything it needs is in this folder: its routes and limits, its
// OpenAPI fragment, its config section, its table and migrations, its CLI command.
package guest

import (
	"embed"
	"io/fs"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
	"github.com/cashlessmedia/cashless-auth/core/metrics"
)

//go:embed openapi.json
var fragment []byte

//go:embed migrations
var migrations embed.FS

// Plugin is what a catalogue line would list: guest.Plugin.
var Plugin = core.Plugin{
	Name:       "guest",
	Config:     Section,
	Migrations: mustSub(migrations, "migrations"),
	Commands:   []core.Command{visitsCommand},
	Module: fx.Module("guest",
		core.OpenAPI("guest", fragment),
		fx.Provide(fx.Private, NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane("guest"),
	),
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded at compile time
	}
	return sub
}
