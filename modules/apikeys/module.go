// Package apikeys issues API keys to an event's clients (POST /tokens/api-key), revokes them
// (DELETE /tokens/api-key/{key_id}) and teaches POST /tokens/verify to recognise them.
package apikeys

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry.
var Plugin = core.Plugin{
	Name:             "api_keys",
	EnabledByDefault: true,
	Migrations:       Migrations,
	Commands:         []core.Command{apiKeysCommand},
	Module: fx.Module("api_keys",
		core.OpenAPI("api_keys", fragment),
		fx.Provide(NewService, fx.Private, newCache, NewEventClients),
		core.Routes(NewRoutes),
		core.TokenVerifier(NewVerifier),
	),
}
