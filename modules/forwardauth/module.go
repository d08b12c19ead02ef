// Package forwardauth lets gateways verify tokens for the services behind them: nginx
// auth_request, Traefik ForwardAuth and Envoy ext_authz call /auth/forward (Envoy with the
// client's path appended) and get 200 with identity headers for the upstream, or 401/403.
// It asks the very check POST /tokens/verify makes (core/verify.Checker), so a logout or a
// revoked API key is refused here at once. Gateway configs: deployments/gateways/; header
// names and the options' grammar: docs/operations.md, "Gateways".
package forwardauth

import (
	_ "embed"

	"go.uber.org/fx"

	"github.com/cashlessmedia/cashless-auth/core"
)

//go:embed openapi.json
var fragment []byte

// Plugin is the catalogue entry: modules.forward_auth.enabled (off by default: an endpoint a
// gateway must be configured to call).
var Plugin = core.Plugin{
	Name: "forward_auth",
	Module: fx.Module("forward_auth",
		core.OpenAPI("forward_auth", fragment),
		core.Routes(NewRoutes),
	),
}
