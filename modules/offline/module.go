// Package offline serves POST /tokens/offline: long-lived offline tokens, bound to an event and
// optionally a device, that POS devices use to keep authenticating sales while the network is
// down. It is always on, like the token endpoints of the session module.
//
// Choices the contract leaves open: operators and network managers need an access token bound
// to the requested event (else 403, checked before the event's existence); a device_id must be
// an integer as pydantic reads one (else 422 at body.device_id) naming a live device of that
// event (else 404).
package offline

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:     "offline",
	AlwaysOn: true,
	Module: fx.Module("offline",
		core.OpenAPI("offline", fragment),
		fx.Provide(NewService),
		core.Routes(NewRoutes),
	),
}
