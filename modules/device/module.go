// Package device is the POS device lane: a device registered for an event (by MAC address) logs
// in with its MAC and event once an operator is associated with it, and receives an offline
// token bound to the event, the device and that operator (POST /auth/login/device,
// POST /devices/auth, POST /devices/{device_id}/token).
//
// Choices the contract leaves open:
//   - Every device that may not log in (unknown or malformed MAC, other event, archived, no
//     operator, operator no longer of the event) gets the same 401, on /devices/auth too. A
//     malformed MAC is a 401 rather than a 422 so that probing tells an attacker nothing.
//   - "Operator of the event" is an account with the operator role bound to that event or to
//     none (unbound operators may work any event, as POST /auth/login lets them). Network
//     managers are not device operators and may not call /devices/{device_id}/token (403).
//   - An archived device gets no new token from /devices/{device_id}/token (404). `devices
//     archive` also sets the device's not-before time (core/notbefore), so POST /tokens/verify
//     refuses the tokens it already holds; a POS checking them offline accepts them until they
//     expire.
//   - A device token is the device's, whoever asked for it: it carries no sid, so an operator's
//     logout does not stop the POS it set up. Binding it to that session would bound nothing
//     anyway, since device login mints the same token from the MAC and event alone; the device's
//     not-before time (archiving) is what ends it.
package device

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
	Name:             "device",
	EnabledByDefault: true,
	Module: fx.Module("device",
		core.OpenAPI("device", fragment),
		fx.Provide(NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane("device"),
	),
}
