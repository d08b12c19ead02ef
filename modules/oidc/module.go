// Package oidc is the consumer login lane by any OpenID Connect provider (Google, Apple,
// Keycloak, Auth0, ...): POST /auth/login/oidc/{provider} exchanges the provider's ID token,
// obtained by the app's native sign-in, for a consumer session. Consumers are linked by the
// token's issuer and subject through the core's identities, never by e-mail. Off by default: it
// needs at least one provider under modules.oidc.providers.
package oidc

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
	Name:   "oidc",
	Config: Section,
	Module: fx.Module("oidc",
		core.OpenAPI("oidc", fragment),
		fx.Provide(fx.Private, NewService),
		core.Routes(NewRoutes),
		metrics.LoginLane(lane),
		metrics.Dependency("oidc"),
	),
}
